import CAlphaCoreShims
import CLibURing
import Glibc

/// io_uring: how a poll waits, and the watch that covers the kernel's lost ends.
///
/// The watch. Linux 6.18 can miss the end of a stream on a multishot recv: when the FIN
/// arrives with the last data, the recv that drains the data sees "nothing left" (msg_inq == 0,
/// which does not count the FIN), arms its poll again, and no wake-up ever comes (reproduced
/// with raw liburing); a read armed again after ENOBUFS can also stall with data waiting. So
/// every fd is also in an epoll set that reports hang-ups only (EPOLLRDHUP, edge-triggered),
/// and the ring polls that set: a hang-up wakes the wait and puts the fd on the watch list; so
/// does a read armed again after ENOBUFS (a stall suspect). Watched fds are checked with the CQ
/// drained (at once, then every millisecond) without reading them: only the end (or an error)
/// left, it is handed out and the read cancelled; data seen waiting at two checks with no
/// completion in between, the read is cancelled and armed again. With DEFER_TASKRUN the
/// kernel's recv runs only inside our enter, so every byte it took is already harvested: a
/// check cannot reorder or lose data. Besides, one fd is checked per 4096 completions.
///
/// The waits. With nothing watched, a poll makes one io_uring_enter that waits for
/// min_complete, min_wait and the timeout in the kernel, and a signal ends it (EINTR). A poll
/// that may wait more than once (watched fds: 1 ms slices; the spin profile: spinning, then
/// a wait) blocks signals for its duration and passes the caller's mask to each wait, so that
/// a signal arriving between two waits still ends the next one (the pselect pattern).
extension ReaderCore {
    static let sliceNs: Int64 = 1_000_000
    /// How often a spinning poll asks the kernel whether a signal is pending.
    static let spinSignalCheckNs: Int64 = 20_000

    /// Which fds hung up (the epoll set's edge-triggered events): they go on the watch list.
    @inline(never)
    mutating func collectHangups() {
        hupEvents = false
        while true {
            let got = Int(epoll_wait(hupEpfd, events, Int32(eventsCap), 0))
            counters.syscalls &+= 1
            if got <= 0 { return }
            for i in 0..<got {
                let t = events[i].data.u64
                let idx = Int(truncatingIfNeeded: t & 0xFFFF_FFFF)
                if idx < capacity && slots[idx].gen == UInt32(truncatingIfNeeded: t &>> 32)
                    && (slots[idx].state == ReaderSlot.active || slots[idx].state == ReaderSlot.parked) {
                    slots[idx].peerHungUp = true
                    watch(idx)
                }
            }
            lastSweep = 0   // check them at once
            if got < eventsCap { return }
        }
    }

    @inline(__always)
    mutating func watch(_ idx: Int) {
        if !watchHangups || slots[idx].hupWatched { return }
        slots[idx].hupWatched = true
        hupList[hupCount] = Int32(truncatingIfNeeded: idx)
        hupCount &+= 1
    }

    /// Takes a slot off the watch list (at remove: a freed slot is never on it).
    mutating func unwatch(_ idx: Int) {
        slots[idx].hupWatched = false
        for i in 0..<hupCount where hupList[i] == Int32(truncatingIfNeeded: idx) {
            hupCount &-= 1
            hupList[i] = hupList[hupCount]
            return
        }
    }

    /// What a check without reading found.
    enum SlotCheck { case ended, dataWaiting, idle }

    /// Peeks at one fd: a socket by a 1-byte MSG_PEEK recv, anything else by poll(2) with
    /// timeout 0 (FIONREAD fails on eventfd, timerfd and signalfd). Returns the state and, for
    /// `.ended`, the result to hand out (0 or -errno).
    func peek(_ idx: Int) -> (SlotCheck, Int32) {
        let s = slots + idx
        if s.pointee.isSocket {
            var byte: UInt8 = 0
            switch SystemCall.valueOrErrno({ recv(s.pointee.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) }) {
            case .success(let r):
                if r > 0 || s.pointee.isDatagram { return (.dataWaiting, 0) }  // a datagram of 0 bytes is no end
                return (.ended, 0)
            case .failure(let e):
                if e.code == EAGAIN || e.code == EWOULDBLOCK { return (.idle, 0) }
                return (.ended, 0 - e.code)
            }
        }
        let ev = acshim_poll_now(s.pointee.fd)
        if ev < 0 { return (.idle, 0) }
        if ev & Int32(POLLIN) != 0 { return (.dataWaiting, 0) }
        if ev & Int32(POLLHUP) != 0 { return (.ended, 0) }       // a pipe whose writers are gone, empty
        if ev & Int32(POLLERR) != 0 { return (.ended, -EIO) }
        return (.idle, 0)
    }

    /// Checks one armed fd without reading it: only its end (or an error) left, the end is
    /// handed out and the read cancelled; data seen waiting at two checks with no completion in
    /// between means the read is stuck: it is cancelled and armed again at its final completion.
    mutating func checkSlot(_ idx: Int, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) -> SlotCheck {
        let s = slots + idx
        let (state, res) = peek(idx)
        counters.syscalls &+= 1
        if state == .dataWaiting && !s.pointee.restart {
            if s.pointee.sawData {
                s.pointee.sawData = false
                s.pointee.restart = true
                cancel(idx, gen: s.pointee.gen)
            } else {
                s.pointee.sawData = true
            }
        }
        if state != .ended { return state }
        if sqpoll {
            // The kernel thread runs the recv concurrently: it may have taken the last
            // bytes without posting them yet. Cancel the read and hand the end out after
            // its final completion (finishPendingEnd, then the sweep).
            if !s.pointee.endPending {
                s.pointee.endPending = true
                s.pointee.pendingResult = res
                cancel(idx, gen: s.pointee.gen)
            }
            watch(idx)
            return .dataWaiting
        }
        deliverEnd(idx, res, out, &n)
        cancel(idx, gen: s.pointee.gen)
        return .ended
    }

    /// SQPOLL: the final completion of a read cancelled because only its end was waiting.
    /// Its data (if any) goes out; the end follows from the sweep (which has room for it).
    @inline(never)
    mutating func finishPendingEnd(_ idx: Int, _ res: Int32, _ bid: Int, _ off: Int, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        let s = slots + idx
        if res > 0 {
            s.pointee.sawData = false
            deliver(idx, bid, off, Int(res), out, &n)
        }
        if res < 0 && res != -ECANCELED && res != -ENOBUFS { s.pointee.pendingResult = res }
        watch(idx)
        lastSweep = 0
    }

    @inline(__always)
    mutating func dropWatched(_ i: Int) {
        slots[Int(hupList[i])].hupWatched = false
        hupCount &-= 1
        hupList[i] = hupList[hupCount]
    }

    /// Checks every watched fd (they are few) at most every `interval` ns.
    mutating func sweepHangups(_ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int, _ limit: Int, interval: Int64) {
        let now = readerNow()
        if now &- lastSweep < interval { return }
        lastSweep = now
        var i = 0
        while i < hupCount {
            let idx = Int(hupList[i])
            let s = slots + idx
            if s.pointee.state != ReaderSlot.active && s.pointee.state != ReaderSlot.parked || !s.pointee.hupWatched {
                dropWatched(i)
                continue
            }
            if n >= limit { return }
            if s.pointee.endPending {
                // SQPOLL: the end goes out once the cancelled read's final completion is in.
                if !s.pointee.armed {
                    s.pointee.endPending = false
                    deliverEnd(idx, s.pointee.pendingResult, out, &n)
                    dropWatched(i)
                    continue
                }
                i &+= 1
                continue
            }
            if s.pointee.state == ReaderSlot.parked || !s.pointee.armed { i &+= 1; continue }
            let state = checkSlot(idx, out, &n)
            // An end handed out, or a stall suspect found with nothing waiting: off the list.
            if state == .ended || (state == .idle && !s.pointee.peerHungUp && !s.pointee.restart) {
                dropWatched(i)
                continue
            }
            i &+= 1
        }
    }

    /// Checks the next `budget` armed fds round-robin (stall watch over all fds).
    mutating func checkRoundRobin(_ budget: Int, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int, _ limit: Int) {
        var left = budget
        var seen = 0
        while left > 0 && seen < capacity && n < limit {
            if stallCursor >= capacity { stallCursor = 0 }
            let idx = stallCursor
            stallCursor &+= 1
            seen &+= 1
            let s = slots + idx
            if s.pointee.state != ReaderSlot.active || !s.pointee.armed || s.pointee.restart { continue }
            left &-= 1
            if checkSlot(idx, out, &n) == .dataWaiting { watch(idx) }
        }
    }

    /// Whether deferred work waits in the kernel (IORING_SQ_TASKRUN) or the CQ holds entries.
    @inline(__always)
    func uringHasWork() -> Bool {
        guard let r = ring else { return false }
        if r.pointee.cq.khead.unsafelyUnwrapped.pointee != acshim_load_acquire_u32(r.pointee.cq.ktail.unsafelyUnwrapped) { return true }
        return acshim_load_acquire_u32(r.pointee.sq.kflags.unsafelyUnwrapped) & (UInt32(IORING_SQ_TASKRUN) | UInt32(IORING_SQ_CQ_OVERFLOW)) != 0
    }

    /// Whether SQEs wait to be submitted.
    @inline(__always)
    func sqPending() -> Bool {
        guard let r = ring else { return false }
        return r.pointee.sq.sqe_tail != acshim_load_acquire_u32(r.pointee.sq.khead.unsafelyUnwrapped)
    }

    /// The errors an enter may end with that are not failures.
    @inline(__always)
    static func benignEnter(_ e: Int32?) -> Bool {
        guard let e else { return true }
        return e == ETIME || e == EINTR || e == EAGAIN || e == EBUSY
    }

    @inline(never)
    static func enterFailed(_ e: Int32) -> Errno { Errno.fail(e, "io_uring_enter failed: \(Errno(e))") }

    mutating func pollURing(_ out: UnsafeMutablePointer<ReaderCompletion>, max: Int, minComplete: Int,
                            minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        let room = framing == .none ? max : max &- 2
        var n = harvest(out, 0, max)
        if n >= room || (n > 0 && n >= minComplete) { return n }
        if n == 0 && parkedCount > 0 && kernelBufs == 0 {
            throw ReaderCore.noBuffers(parkedCount)
        }
        if minComplete == 0 || timeoutNs == 0 {
            if !uringHasWork() && !sqPending() { return n }  // nothing to submit, nothing deferred: no system call
            if let e = enter(wait: 0, timeoutNs: 0, minWaitNs: 0), !ReaderCore.benignEnter(e) { throw ReaderCore.enterFailed(e) }
            return harvest(out, n, max)
        }
        if spinNs != 0 || hupCount > 0 {
            return try pollURingMasked(out, n, max: max, minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs)
        }
        // One wait: min_complete, min_wait and the timeout are the kernel's; a signal ends it.
        let e = enter(wait: UInt32(truncatingIfNeeded: minComplete &- n), timeoutNs: timeoutNs, minWaitNs: minWaitNs)
        if !ReaderCore.benignEnter(e), let e { throw ReaderCore.enterFailed(e) }
        n = harvest(out, n, max)
        if n == 0 && parkedCount > 0 && kernelBufs == 0 {
            throw ReaderCore.noBuffers(parkedCount)
        }
        return n
    }

    /// A poll that may wait more than once (spinning, or 1 ms slices while fds are watched),
    /// with signals blocked in between and the caller's mask in each wait.
    @inline(never)
    mutating func pollURingMasked(_ out: UnsafeMutablePointer<ReaderCompletion>, _ n0: Int, max: Int, minComplete: Int,
                                  minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        var old: UInt64 = 0
        _ = acshim_signals_block(&old)
        counters.syscalls &+= 2
        defer { _ = acshim_signals_restore(&old) }
        var w = WaitState(n: n0, start: readerNow(), minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs,
                          room: framing == .none ? max : max &- 2)
        if spinNs != 0 {
            if try spinURing(out, max, &w, &old) { return w.n }
        }
        while true {
            guard let t = w.nextWaitNs(readerNow(), sliced: hupCount > 0) else { return w.n }
            let e = withUnsafePointer(to: &old) { m in
                enter(wait: UInt32(truncatingIfNeeded: minComplete &- w.n), timeoutNs: t, minWaitNs: w.n > 0 ? 0 : minWaitNs, mask: m)
            }
            if e == EINTR { return harvest(out, w.n, max) }  // a signal: return what there is
            if !ReaderCore.benignEnter(e), let e { throw ReaderCore.enterFailed(e) }
            w.took(harvest(out, w.n, max))
            if hupCount > 0 && w.n < w.room { sweepHangups(out, &w.n, w.room, interval: ReaderCore.sliceNs) }
            if w.done { return w.n }
            if w.n == 0 && parkedCount > 0 && kernelBufs == 0 { throw ReaderCore.noBuffers(parkedCount) }
        }
    }

    /// Spins (no sleep in the kernel) until data, the spin budget, the timeout or a pending
    /// signal. Returns true when the poll is over.
    mutating func spinURing(_ out: UnsafeMutablePointer<ReaderCompletion>, _ max: Int, _ w: inout WaitState,
                            _ old: inout UInt64) throws(Errno) -> Bool {
        let budgetEnd = spinNs < 0 ? Int64.max : w.start &+ spinNs
        var lastSignalCheck = w.start
        var spins = 0
        while true {
            if sqPending() || uringHasWork() {
                if let e = enter(wait: 0, timeoutNs: 0, minWaitNs: 0), !ReaderCore.benignEnter(e) { throw ReaderCore.enterFailed(e) }
                w.took(harvest(out, w.n, max))
                if w.n >= w.room || (w.n > 0 && w.n >= w.minComplete) { return true }
            } else {
                acshim_cpu_relax()
            }
            spins &+= 1
            if spins & 63 != 0 { continue }
            let now = readerNow()
            if w.expired(now) { return true }
            if w.n == 0 && parkedCount > 0 && kernelBufs == 0 { throw ReaderCore.noBuffers(parkedCount) }
            if hupCount > 0 && w.n < w.room {
                sweepHangups(out, &w.n, w.room, interval: ReaderCore.sliceNs)
                if w.done { return true }
            }
            if now &- lastSignalCheck >= ReaderCore.spinSignalCheckNs {
                lastSignalCheck = now
                counters.syscalls &+= 1
                if acshim_signals_pending(&old) != 0 { return true }
            }
            if now >= budgetEnd { return false }
        }
    }
}

/// The bookkeeping of a poll that waits more than once (both backends).
struct WaitState {
    var n: Int
    let start: Int64
    let minComplete: Int
    let minWaitNs: Int64
    let timeoutNs: Int64
    let room: Int

    init(n: Int, start: Int64, minComplete: Int, minWaitNs: Int64, timeoutNs: Int64, room: Int) {
        self.n = n
        self.start = start
        self.minComplete = minComplete
        self.minWaitNs = minWaitNs
        self.timeoutNs = timeoutNs
        self.room = room
    }

    @inline(__always)
    mutating func took(_ newN: Int) { n = newN }

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
        if sliced { t = t < 0 ? ReaderCore.sliceNs : Swift.min(t, ReaderCore.sliceNs) }
        return t
    }
}
