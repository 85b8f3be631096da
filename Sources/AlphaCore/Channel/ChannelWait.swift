import CAlphaCoreShims
import Glibc
import Synchronization

/// Who a process is, in a way that survives pid reuse: its pid and its start time (field 22 of
/// /proc/<pid>/stat, clock ticks since boot).
enum ProcessIdentity {
    static func startTime(_ pid: Int32) -> UInt64? { procStat(pid)?.start }

    /// Field 3 (state) and field 22 (start time) of /proc/<pid>/stat.
    static func procStat(_ pid: Int32) -> (state: UInt8, start: UInt64)? {
        guard pid > 0, let text = try? SysFile.read("/proc/\(pid)/stat", limit: 4096) else { return nil }
        // The command may hold spaces and parentheses: fields start after the last ')'.
        let bytes = Array(text.utf8)
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state); field 22 is fields[19].
        guard fields.count > 19, let state = fields[0].first,
              let start = UInt64(String(decoding: fields[19], as: UTF8.self)) else { return nil }
        return (state, start)
    }

    static var selfStart: UInt64 { startTime(getpid()) ?? 0 }

    /// Whether the process (pid, start) still runs. A pid that exists with another start time
    /// is a different process (the pid was reused).
    static func alive(pid: Int32, start: UInt64) -> Bool {
        if pid <= 0 { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }
        guard let now = procStat(pid) else { return false }
        // A zombie (exited, not yet reaped by its parent, which may be the producer itself,
        // waiting for it in claim) has ended: it reads nothing more.
        if now.state == UInt8(ascii: "Z") || now.state == UInt8(ascii: "X") { return false }
        return start == 0 || now.start == start
    }
}

/// Spin-then-sleep on the channel's futex word. A sleeper counts itself in `sleepers`; the
/// producer bumps the word and wakes only when that count is non-zero. The producer does not
/// fence between its commit and reading the count (that would cost a full barrier per
/// message), so a wake can be missed while a reader is falling asleep: sleeps are therefore
/// bounded to 1 ms slices, and a missed wake costs at most one slice or lasts until the next
/// message, whichever comes first.
@usableFromInline enum ChannelFutex {
    static let sliceNs: UInt64 = 1_000_000

    static func wake(_ v: SharedView) {
        v.word32(ChannelLayout.oFutex).pointee.wrappingAdd(1, ordering: .releasing)
        _ = acshim_futex_wake(UnsafeMutableRawPointer(v.word32(ChannelLayout.oFutex)).assumingMemoryBound(to: UInt32.self),
                              Int32.max)
    }

    /// wake for commit's tail call: returns commit's 0.
    @usableFromInline @inline(never)
    static func wakeAll(_ v: SharedView) -> Int32 {
        wake(v)
        return 0
    }

    /// Sleeps until woken, `ready()` holds, or `ns` pass (at most one slice).
    static func sleep(_ v: SharedView, ns: UInt64, ready: () -> Bool) {
        let sleepers = v.word32(ChannelLayout.oSleepers)
        sleepers.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        defer { sleepers.pointee.wrappingSubtract(1, ordering: .relaxed) }
        let word = v.word32(ChannelLayout.oFutex)
        let seen = word.pointee.load(ordering: .sequentiallyConsistent)
        if ready() { return }
        let d = min(ns, sliceNs)
        var ts = timespec(tv_sec: Int(d / 1_000_000_000), tv_nsec: Int(d % 1_000_000_000))
        _ = acshim_futex_wait(UnsafeMutableRawPointer(word).assumingMemoryBound(to: UInt32.self), seen, &ts)
    }
}

/// Consumer registrations (backpressure): one 64-byte slot per registered reader holding its
/// identity and the position it has released (everything before it may be overwritten).
enum ChannelSlots {
    /// Claims a free slot for this process; ENOSPC when all are held by live readers.
    static func register(_ v: SharedView, position: UInt64, epoch: UInt64) throws(Errno) -> Int {
        let me = getpid(), start = ProcessIdentity.selfStart
        for pass in 0..<2 {
            for i in 0..<ChannelLayout.slotCount {
                let s = v.slot(i)
                if pass == 1 { reapIfDead(s) }
                let state = s.word32(ChannelLayout.sState)
                guard state.pointee.compareExchange(expected: SlotState.free.rawValue, desired: SlotState.claiming.rawValue,
                                                    ordering: .acquiringAndReleasing).exchanged else { continue }
                s.store32(ChannelLayout.sPid, UInt32(bitPattern: me))
                s.store(ChannelLayout.sStart, start)
                s.store(ChannelLayout.sPosition, position)
                s.store(ChannelLayout.sEpoch, epoch)
                state.pointee.store(SlotState.active.rawValue, ordering: .releasing)
                return i
            }
        }
        throw Errno.fail(ENOSPC, "all \(ChannelLayout.slotCount) consumer slots are held by live readers")
    }

    static func release(_ v: SharedView, _ i: Int) {
        guard i >= 0 && i < ChannelLayout.slotCount else { return }
        v.slot(i).store32(ChannelLayout.sState, SlotState.free.rawValue)
    }

    /// Frees the slot if its reader has died (pid gone or reused). True if freed.
    @discardableResult
    static func reapIfDead(_ s: SharedView) -> Bool {
        let state = s.word32(ChannelLayout.sState)
        guard state.pointee.load(ordering: .acquiring) == SlotState.active.rawValue else { return false }
        let pid = Int32(bitPattern: s.load32(ChannelLayout.sPid))
        if ProcessIdentity.alive(pid: pid, start: s.load(ChannelLayout.sStart)) { return false }
        return state.pointee.compareExchange(expected: SlotState.active.rawValue, desired: SlotState.free.rawValue,
                                             ordering: .acquiringAndReleasing).exchanged
    }

    /// The lowest released position of the active slots of this epoch (nil: none).
    static func minPosition(_ v: SharedView, epoch: UInt64, reap: Bool) -> UInt64? {
        var low: UInt64? = nil
        for i in 0..<ChannelLayout.slotCount {
            let s = v.slot(i)
            if s.load32(ChannelLayout.sState) != SlotState.active.rawValue { continue }
            if s.load(ChannelLayout.sEpoch) != epoch { continue }
            if reap && reapIfDead(s) { continue }
            let p = s.load(ChannelLayout.sPosition)
            if let l = low, l <= p { continue }
            low = p
        }
        return low
    }

    static func active(_ v: SharedView) -> Int {
        var n = 0
        for i in 0..<ChannelLayout.slotCount where v.slot(i).load32(ChannelLayout.sState) == SlotState.active.rawValue {
            n += 1
        }
        return n
    }
}
