import CAlphaCoreShims
import Glibc

/// The backend contract: what the reader's core asks of io_uring (URing/) and epoll (Epoll/).
///
/// A reader holds one backend, chosen at creation, and its core switches on it once per call
/// (ReaderCore.swift); everything below that switch is a generic specialised for the backend:
/// no existential, no witness-table call, no runtime call on the poll path. Each requirement
/// gets the shared state (`ReaderState`: fd table, buffers, framer, counters) as `inout`.
protocol ReaderIOBackend {
    /// Starts reading slot `idx` (just filled in by add). Throws to refuse the fd.
    mutating func start(_ idx: Int, _ r: inout ReaderState) throws(Errno)
    /// Called before a slot is removed: the kernel must take any queued work naming its fd
    /// before the caller can close it and a new file can get the same number.
    mutating func willRemove(_ r: inout ReaderState)
    /// Stops reading removed slot `idx` (its generation already bumped; `gen` is its reads').
    /// Returns true when a read is still in flight: its final completion frees the slot.
    mutating func remove(_ idx: Int, gen: UInt32, _ r: inout ReaderState) -> Bool
    /// Stops reading slot `idx`, which stays added (the framer ended it).
    mutating func stopReading(_ idx: Int, _ r: inout ReaderState)
    /// Reading resumes on slot `idx`, parked for lack of buffers.
    mutating func resume(_ idx: Int, _ r: inout ReaderState)
    /// Whether parked slots can read again once the caller gives buffers back (epoll: always;
    /// io_uring: once the kernel holds a buffer).
    func canResume(_ r: ReaderState) -> Bool
    /// How many fds wait for a buffer the kernel cannot get (0: none): a poll that finds none
    /// ready then fails with ENOBUFS instead of waiting forever.
    func starved(_ r: ReaderState) -> Int
    /// Takes what is ready without a system call that waits (io_uring: the CQ; epoll: the
    /// ready queue), from `out[n]` on. Returns the new count.
    mutating func takeReady(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: Int, max: Int) -> Int
    /// A poll that must not wait (min_complete or the timeout is 0): one look at the kernel.
    mutating func takeNow(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: Int,
                          max: Int) throws(Errno) -> Int
    /// Whether a poll that still needs `minComplete - n` completions may wait more than once
    /// (then `pollMasked`; the spin profile always does).
    func waitsMoreThanOnce(_ n: Int, minComplete: Int) -> Bool
    /// The one blocking wait of a poll (a signal ends it), then what it brought.
    mutating func waitOnceUnmasked(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: Int, max: Int,
                                   minComplete: Int, minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int
    /// Whether `fd` is one of the backend's own (never readable data).
    func owns(_ fd: Int32) -> Bool
    /// Cancels every read, waits for the kernel to let go of the buffers, closes its fds.
    mutating func teardown(_ r: inout ReaderState)

    // The waits of a poll that may wait more than once (`pollMasked` below).
    /// Whether such a poll waits in 1 ms slices (io_uring while fds are watched).
    var slicesWaits: Bool { get }
    /// One turn of the spin profile: takes what is ready without sleeping. True: poll over.
    mutating func spinStep(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>,
                           _ w: inout WaitState) throws(Errno) -> Bool
    /// The spin turns between two clock checks (a power of two).
    static var spinTurnsPerCheck: Int { get }
    /// Work between spin turns (io_uring: the hang-up sweep). True: poll over.
    mutating func spinChores(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>,
                             _ w: inout WaitState) -> Bool
    /// One blocking wait of at most `waitNs` (-1: none) with the caller's signal mask, then
    /// what it brought. False: a signal ended it.
    mutating func waitOnce(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ w: inout WaitState,
                           _ waitNs: Int64, _ mask: UnsafePointer<UInt64>) throws(Errno) -> Bool
}

/// How often a spinning poll asks the kernel whether a signal is pending.
let spinSignalCheckNs: Int64 = 20_000
/// The wait slice while io_uring watches fds.
let waitSliceNs: Int64 = 1_000_000

extension ReaderIOBackend {
    /// Harvests up to `max` completions into `out` (see `alphacore_reader_poll`): what is
    /// ready; then, short of min_complete, one look (no wait allowed), one wait, or the
    /// masked waits.
    @inline(__always)
    mutating func poll(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, max: Int, minComplete: Int,
                       minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        let room = r.room(max)
        let n = takeReady(&r, out, 0, max: max)
        if n >= room || (n > 0 && n >= minComplete) { return n }
        try checkStarved(r, n)
        if minComplete == 0 || timeoutNs == 0 { return try takeNow(&r, out, n, max: max) }
        if r.spinNs != 0 || waitsMoreThanOnce(n, minComplete: minComplete) {
            var w = WaitState(n: n, max: max, room: room, minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs)
            return try pollMasked(&r, out, &w)
        }
        return try waitOnceUnmasked(&r, out, n, max: max, minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs)
    }

    /// A poll that may wait more than once (spinning, several waits for min_complete, 1 ms
    /// slices while fds are watched), on either backend: async signals are blocked for the
    /// poll and the caller's mask is handed to each kernel wait, so that a signal arriving
    /// between two waits still ends the next one (the pselect pattern).
    @inline(never)
    mutating func pollMasked(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>,
                             _ w: inout WaitState) throws(Errno) -> Int {
        var old: UInt64 = 0
        _ = acshim_signals_block(&old)
        r.counters.syscalls &+= 2
        defer { _ = acshim_signals_restore(&old) }
        if r.spinNs != 0 {
            if try spin(&r, out, &w, &old) { return w.n }
        }
        while true {
            guard let t = w.nextWaitNs(readerNow(), sliced: slicesWaits) else { return w.n }
            let woke = try withUnsafePointer(to: &old) { m throws(Errno) in try waitOnce(&r, out, &w, t, m) }
            if !woke || w.done { return w.n }
            try checkStarved(r, w.n)
        }
    }

    /// Spins (no sleep in the kernel) until data, the spin budget, the timeout or a pending
    /// signal. Returns true when the poll is over.
    mutating func spin(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>,
                       _ w: inout WaitState, _ old: inout UInt64) throws(Errno) -> Bool {
        let budgetEnd = r.spinNs < 0 ? Int64.max : w.start &+ r.spinNs
        var lastSignalCheck = w.start
        var turns = 0
        while true {
            if try spinStep(&r, out, &w) { return true }
            turns &+= 1
            if turns & (Self.spinTurnsPerCheck &- 1) != 0 { continue }
            let now = readerNow()
            if w.expired(now) { return true }
            try checkStarved(r, w.n)
            if spinChores(&r, out, &w) { return true }
            if now &- lastSignalCheck >= spinSignalCheckNs {
                lastSignalCheck = now
                r.counters.syscalls &+= 1
                if acshim_signals_pending(&old) != 0 { return true }
            }
            if now >= budgetEnd { return false }
        }
    }

    /// ENOBUFS when nothing was harvested and fds wait for buffers only the caller can free.
    @inline(__always)
    func checkStarved(_ r: ReaderState, _ n: Int) throws(Errno) {
        if n == 0 {
            let waiting = starved(r)
            if waiting > 0 { throw ReaderState.noBuffers(waiting) }
        }
    }
}

/// The bookkeeping of a poll that waits more than once (both backends).
struct WaitState {
    var n: Int
    let start: Int64
    /// The caller's array size, and the completions it may take (less with framing).
    let max: Int
    let room: Int
    let minComplete: Int
    let minWaitNs: Int64
    let timeoutNs: Int64

    init(n: Int, max: Int, room: Int, minComplete: Int, minWaitNs: Int64, timeoutNs: Int64) {
        self.n = n
        self.start = readerNow()
        self.max = max
        self.room = room
        self.minComplete = minComplete
        self.minWaitNs = minWaitNs
        self.timeoutNs = timeoutNs
    }

    /// min_complete reached or no room left.
    var done: Bool { n >= room || (n > 0 && n >= minComplete) }

    /// The timeout passed, or min_wait passed (counted from the poll's start, as the kernel's
    /// min-wait timer on io_uring counts) with at least one completion.
    func expired(_ now: Int64) -> Bool {
        if done { return true }
        if timeoutNs >= 0 && now &- start >= timeoutNs { return true }
        return n > 0 && now &- start >= minWaitNs
    }

    /// The next wait's timeout (-1 = none), or nil when the poll is over.
    func nextWaitNs(_ now: Int64, sliced: Bool) -> Int64? {
        if expired(now) { return nil }
        var t: Int64 = timeoutNs < 0 ? -1 : Swift.max(timeoutNs &- (now &- start), 0)
        if n > 0 {
            let left = Swift.max(minWaitNs &- (now &- start), 0)
            t = t < 0 ? left : Swift.min(t, left)
        }
        if sliced { t = t < 0 ? waitSliceNs : Swift.min(t, waitSliceNs) }
        return t
    }
}
