import CAlphaCoreShims
import CLibURing
import Glibc

/// The hang-up watch: covers the ends the kernel loses on io_uring.
///
/// Linux 6.18 can miss the end of a stream on a multishot recv: when the FIN arrives with the
/// last data, the recv that drains the data sees "nothing left" (msg_inq == 0, which does not
/// count the FIN), arms its poll again, and no wake-up ever comes (reproduced with raw
/// liburing); a read armed again after ENOBUFS can also stall with data waiting. So every fd
/// is also in an epoll set that reports hang-ups only (EPOLLRDHUP, edge-triggered), and the
/// ring polls that set (a multishot poll): a hang-up wakes the wait and puts the fd on the
/// watch list; so does a read armed again after ENOBUFS (a stall suspect). Watched fds are
/// checked with the CQ drained (at once, then every millisecond) without reading them (see
/// `checkSlot`). With DEFER_TASKRUN the kernel's recv runs only inside our enter, so every
/// byte it took is already harvested: a check cannot reorder or lose data. Besides, one fd is
/// checked per 4096 completions.
struct HangupWatch {
    /// The epoll set of every fd, for hang-ups only (-1: no watch).
    var epfd: Int32 = -1
    /// The watched slots.
    var list: UnsafeMutablePointer<Int32>
    var count = 0
    var lastSweep: Int64 = 0
    /// The ring's poll on the set fired: collect its events.
    var eventsPending = false
    var events: UnsafeMutablePointer<epoll_event>
    let eventsCap: Int
    /// The stall watch over all fds: the next slot to check, and completions since the last.
    var stallCursor = 0
    var sinceCheck = 0

    init(capacity: Int) {
        list = ReaderMemory.allocate(capacity, 0)
        eventsCap = Swift.min(capacity, 1024)
        events = ReaderMemory.allocate(eventsCap, epoll_event())
    }

    var enabled: Bool { epfd >= 0 }

    /// Puts an fd in the hang-up set (edge-triggered EPOLLRDHUP; `token` names its slot).
    func add(_ fd: Int32, _ token: UInt64) {
        if epfd < 0 { return }
        var ev = epoll_event()
        ev.events = EPOLLRDHUP.rawValue | EPOLLET.rawValue
        ev.data.u64 = token
        _ = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)
    }

    func delete(_ fd: Int32) {
        if epfd < 0 { return }
        var ev = epoll_event()
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev)
    }

    /// Closes the set and frees the lists (teardown).
    mutating func close() {
        if epfd >= 0 { Glibc.close(epfd) }
        epfd = -1
        list.deallocate()
        events.deallocate()
    }
}

extension URingBackend {
    /// Opens the hang-up set and arms the ring's poll on it (no watch if epoll refuses).
    mutating func startWatch(_ r: inout ReaderState) {
        watch.epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        if watch.enabled { armHangupPoll(&r) }
    }

    /// Which fds hung up (the epoll set's edge-triggered events): they go on the watch list.
    @inline(never)
    mutating func collectHangups(_ r: inout ReaderState) {
        watch.eventsPending = false
        while true {
            let got = Int(epoll_wait(watch.epfd, watch.events, Int32(watch.eventsCap), 0))
            r.counters.syscalls &+= 1
            if got <= 0 { return }
            for i in 0..<got {
                guard let (idx, current) = r.table.slot(of: watch.events[i].data.u64), current else { continue }
                let state = r.table.slots[idx].state
                if state == .active || state == .parked {
                    r.table.slots[idx].peerHungUp = true
                    watchSlot(idx, &r)
                }
            }
            watch.lastSweep = 0   // check them at once
            if got < watch.eventsCap { return }
        }
    }

    /// Puts slot `idx` on the watch list (a hang-up, or a stall suspect).
    @inline(__always)
    mutating func watchSlot(_ idx: Int, _ r: inout ReaderState) {
        if !watch.enabled || r.table.slots[idx].watched { return }
        r.table.slots[idx].watched = true
        watch.list[watch.count] = Int32(truncatingIfNeeded: idx)
        watch.count &+= 1
    }

    /// Takes a slot off the watch list (at remove: a freed slot is never on it).
    mutating func unwatch(_ idx: Int, _ r: inout ReaderState) {
        r.table.slots[idx].watched = false
        for i in 0..<watch.count where watch.list[i] == Int32(truncatingIfNeeded: idx) {
            watch.count &-= 1
            watch.list[i] = watch.list[watch.count]
            return
        }
    }

    @inline(__always)
    mutating func dropWatched(_ i: Int, _ r: inout ReaderState) {
        r.table.slots[Int(watch.list[i])].watched = false
        watch.count &-= 1
        watch.list[i] = watch.list[watch.count]
    }

    /// Checks every watched fd (they are few) at most every `interval` ns.
    mutating func sweepHangups(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int,
                               _ limit: Int, interval: Int64) {
        let now = readerNow()
        if now &- watch.lastSweep < interval { return }
        watch.lastSweep = now
        var i = 0
        while i < watch.count {
            let idx = Int(watch.list[i])
            let s = r.table.slots + idx
            if s.pointee.state != .active && s.pointee.state != .parked || !s.pointee.watched {
                dropWatched(i, &r)
                continue
            }
            if n >= limit { return }
            if s.pointee.endPending {
                // SQPOLL: the end goes out once the cancelled read's final completion is in.
                if !s.pointee.armed {
                    s.pointee.endPending = false
                    r.deliverEnd(idx, s.pointee.pendingResult, out, &n)
                    dropWatched(i, &r)
                    continue
                }
                i &+= 1
                continue
            }
            if s.pointee.state == .parked || !s.pointee.armed { i &+= 1; continue }
            let found = checkSlot(idx, &r, out, &n)
            // An end handed out, or a stall suspect found with nothing waiting: off the list.
            if found == .ended || (found == .idle && !s.pointee.peerHungUp && !s.pointee.rearmAfterCancel) {
                dropWatched(i, &r)
                continue
            }
            i &+= 1
        }
    }

    /// Checks the next `budget` armed fds round-robin (stall watch over all fds).
    mutating func checkRoundRobin(_ budget: Int, _ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>,
                                  _ n: inout Int, _ limit: Int) {
        var left = budget
        var seen = 0
        let capacity = r.table.capacity
        while left > 0 && seen < capacity && n < limit {
            if watch.stallCursor >= capacity { watch.stallCursor = 0 }
            let idx = watch.stallCursor
            watch.stallCursor &+= 1
            seen &+= 1
            let s = r.table.slots + idx
            if s.pointee.state != .active || !s.pointee.armed || s.pointee.rearmAfterCancel { continue }
            left &-= 1
            if checkSlot(idx, &r, out, &n) == .dataWaiting { watchSlot(idx, &r) }
        }
    }
}
