import CAlphaCoreShims
import Glibc

/// epoll: every fd registered edge-triggered; a ready fd is read once per round (round-robin
/// over the ready queue) into a free buffer of the same pool, until a short read or EAGAIN says
/// it is drained. The same completions, release and framing as on io_uring.
struct EpollBackend {
    let epfd: Int32
    var events: UnsafeMutablePointer<epoll_event>
    let eventsCap: Int
    /// The ready queue: a ring of slot indexes (each slot at most once: `ReaderSlot.queued`).
    var ready: UnsafeMutablePointer<Int32>
    var readyHead = 0
    var readyCount = 0
    let capacity: Int

    /// Opens the epoll set and puts every buffer on the free list.
    init(_ r: inout ReaderState) throws(Errno) {
        epfd = try SystemCall.check("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        capacity = r.table.capacity
        eventsCap = Swift.min(capacity, 1024)
        events = ReaderMemory.allocate(eventsCap, epoll_event())
        ready = ReaderMemory.allocate(capacity, 0)
        r.pool.freeCount = 0
        for b in stride(from: r.pool.count - 1, through: 0, by: -1) { r.pool.recycle(b) }
    }

    @inline(__always)
    mutating func enqueueReady(_ idx: Int, _ r: inout ReaderState) {
        let s = r.table.slots + idx
        if s.pointee.queued { return }
        s.pointee.queued = true
        var at = readyHead &+ readyCount
        if at >= capacity { at &-= capacity }
        ready[at] = Int32(truncatingIfNeeded: idx)
        readyCount &+= 1
    }

    /// Reads the queued fds round-robin, one buffer per turn, while there is room and a free
    /// buffer. A fd stays queued until a read shows it drained: a short read of a stream (a
    /// socket or pipe: new data brings a new edge), EAGAIN, or its end; a datagram socket stays
    /// queued until EAGAIN (each read is one datagram). So a fd with unread bytes is always
    /// handed out by the next poll that has room.
    @inline(__always)
    mutating func drainReady(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n0: Int, _ limit: Int) -> Int {
        var n = n0
        while readyCount > 0 && n < limit {
            if r.pool.freeCount == 0 {
                r.counters.enobufs &+= 1
                break
            }
            let idx = Int(ready[readyHead])
            readyHead &+= 1
            if readyHead == capacity { readyHead = 0 }
            readyCount &-= 1
            let s = r.table.slots + idx
            s.pointee.queued = false
            if s.pointee.state != .active { continue }
            let bid = r.pool.popFree()
            let got = readOnce(s, r.pool.address(bid), r.pool.size)
            r.counters.syscalls &+= 1
            if got > 0 {
                if r.deliver(idx, bid, 0, got, out, &n) {
                    stopReading(idx, &r)
                } else if got == r.pool.size || s.pointee.hangupSeen || s.pointee.isDatagram {
                    // More may wait: back of the queue, for fairness. After a hang-up the end
                    // must still be read: no new edge will come for it.
                    enqueueReady(idx, &r)
                }
                continue
            }
            r.pool.recycle(bid)
            if got == 0 && s.pointee.isDatagram {
                enqueueReady(idx, &r)   // a datagram of 0 bytes: no end, nothing to hand out
            } else if got == -Int(EAGAIN) || got == -Int(EWOULDBLOCK) {
                continue   // drained: a new edge brings the fd back
            } else {
                r.deliverEnd(idx, Int32(truncatingIfNeeded: got), out, &n)
                stopReading(idx, &r)
            }
        }
        return n
    }

    /// One read that never blocks: bytes, 0 at the end, or -errno (EINTR is retried).
    @inline(__always)
    func readOnce(_ s: UnsafeMutablePointer<ReaderSlot>, _ buf: UnsafeMutableRawPointer, _ size: Int) -> Int {
        let read = SystemCall.valueOrErrno {
            s.pointee.isSocket ? recv(s.pointee.fd, buf, size, Int32(MSG_DONTWAIT)) : acshim_read_nowait(s.pointee.fd, buf, size)
        }
        switch read {
        case .success(let v): return v
        case .failure(let e): return Int(0 - e.code)
        }
    }

    /// Queues the fds of `count` epoll events.
    @inline(__always)
    mutating func takeEvents(_ count: Int, _ r: inout ReaderState) {
        for i in 0..<count {
            guard let (idx, current) = r.table.slot(of: events[i].data.u64),
                  current && r.table.slots[idx].state == .active else { continue }
            if events[i].events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                r.table.slots[idx].hangupSeen = true
            }
            enqueueReady(idx, &r)
        }
    }

    /// One epoll_pwait2 (waitNs -1 = no limit), its events queued; with `mask`, the caller's
    /// signal mask for the wait. Returns false when a signal ended it.
    @inline(__always)
    mutating func wait(_ r: inout ReaderState, _ waitNs: Int64, mask: UnsafePointer<UInt64>?) throws(Errno) -> Bool {
        var ts = timespec(tv_sec: Int(Swift.max(waitNs, 0) / 1_000_000_000), tv_nsec: Int(Swift.max(waitNs, 0) % 1_000_000_000))
        let result = SystemCall.valueOrErrnoOnce {   // EINTR ends the wait: no retry
            if let m = mask {
                return waitNs < 0 ? acshim_epoll_pwait2_mask(epfd, events, Int32(eventsCap), nil, m)
                                  : acshim_epoll_pwait2_mask(epfd, events, Int32(eventsCap), &ts, m)
            }
            return waitNs < 0 ? acshim_epoll_pwait2(epfd, events, Int32(eventsCap), nil)
                              : acshim_epoll_pwait2(epfd, events, Int32(eventsCap), &ts)
        }
        r.counters.syscalls &+= 1
        switch result {
        case .success(let got):
            takeEvents(got, &r)
            return true
        case .failure(let e):
            if e.code != EINTR { throw EpollBackend.waitFailed(e.code) }
            return false  // a signal ended the wait early: like a timeout
        }
    }

    /// Kept out of line: no string work in the poll's body.
    @inline(never)
    static func waitFailed(_ e: Int32) -> Errno { Errno.fail(e, "epoll_pwait2 failed: \(Errno(e))") }
}
