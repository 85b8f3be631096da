import CAlphaCoreShims
import Glibc

/// epoll: every fd registered edge-triggered; a ready fd is read once per round (round-robin
/// over the ready queue) into a free buffer of the same pool, until a short read or EAGAIN says
/// it is drained. The same completions, release and framing as on io_uring.
extension ReaderCore {
    mutating func setupEpoll() throws(Errno) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        if fd < 0 { throw Errno.fromErrno("epoll_create1") }
        epfd = fd
        backend = .epoll
        freeCount = 0
        for b in stride(from: bufCount - 1, through: 0, by: -1) { recycle(b) }
    }

    mutating func epollAdd(_ idx: Int) throws(Errno) {
        let s = slots + idx
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        ev.data.u64 = ReaderCore.token(idx, s.pointee.gen)
        if epoll_ctl(epfd, EPOLL_CTL_ADD, s.pointee.fd, &ev) != 0 {
            throw Errno.fromErrno("epoll_ctl(ADD) of fd \(s.pointee.fd)")
        }
    }

    mutating func epollRemove(_ idx: Int) {
        var ev = epoll_event()
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, slots[idx].fd, &ev)  // EBADF after a close: nothing to undo
    }

    @inline(__always)
    mutating func enqueueReady(_ idx: Int) {
        let s = slots + idx
        if s.pointee.queued { return }
        s.pointee.queued = true
        var at = readyHead &+ readyCount
        if at >= capacity { at &-= capacity }
        ready[at] = Int32(truncatingIfNeeded: idx)
        readyCount &+= 1
    }

    /// Reads each queued fd once into a free buffer.
    @inline(__always)
    mutating func drainReady(_ out: UnsafeMutablePointer<ReaderCompletion>, _ n0: Int, _ limit: Int) -> Int {
        var n = n0
        var budget = readyCount
        while budget > 0 && n < limit {
            if freeCount == 0 {
                counters.enobufs &+= 1
                break
            }
            let idx = Int(ready[readyHead])
            readyHead &+= 1
            if readyHead == capacity { readyHead = 0 }
            readyCount &-= 1
            budget &-= 1
            let s = slots + idx
            s.pointee.queued = false
            if s.pointee.state != ReaderSlot.active { continue }
            freeCount &-= 1
            let bid = Int(freeList[freeCount])
            let buf = bufferAddress(bid)
            let got = s.pointee.isSocket ? recv(s.pointee.fd, buf, bufSize, Int32(MSG_DONTWAIT))
                                         : acshim_read_nowait(s.pointee.fd, buf, bufSize)
            counters.syscalls &+= 1
            if got > 0 {
                deliver(idx, bid, 0, got, out, &n)
                // A full buffer: more may wait. Back of the queue, for fairness.
                // After a hang-up the end must still be read: no new edge will come for it.
                if (got == bufSize || s.pointee.hangup) && s.pointee.state == ReaderSlot.active { enqueueReady(idx) }
                continue
            }
            freeList[freeCount] = UInt32(truncatingIfNeeded: bid)
            freeCount &+= 1
            if got == 0 {
                deliverEnd(idx, 0, out, &n)
                epollRemove(idx)
            } else {
                let e = errno
                if e == EAGAIN || e == EWOULDBLOCK { continue }
                if e == EINTR { enqueueReady(idx); continue }
                deliverEnd(idx, 0 - e, out, &n)
                epollRemove(idx)
            }
        }
        return n
    }

    mutating func pollEpoll(_ out: UnsafeMutablePointer<ReaderCompletion>, max: Int, minComplete: Int,
                            minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        let limit = framing == .none ? max : max &- 2
        var n = drainReady(out, 0, limit)
        if n >= limit || (n > 0 && n >= minComplete) { return n }
        let start = readerNow()
        var firstAt: Int64 = n > 0 ? start : 0
        while true {
            let elapsed = readerNow() &- start
            var waitNs: Int64 = timeoutNs < 0 ? -1 : Swift.max(timeoutNs &- elapsed, 0)
            if minComplete == 0 || busyPoll { waitNs = 0 }
            if n > 0 {
                let left = Swift.max(minWaitNs &- (readerNow() &- firstAt), 0)
                waitNs = waitNs < 0 ? left : Swift.min(waitNs, left)
            }
            if n == 0 && freeCount == 0 && readyCount > 0 {
                throw ReaderCore.noBuffers(readyCount)
            }
            var ts = timespec(tv_sec: Int(waitNs / 1_000_000_000), tv_nsec: Int(waitNs % 1_000_000_000))
            let rc = waitNs < 0 ? acshim_epoll_pwait2(epfd, events, Int32(eventsCap), nil)
                                : acshim_epoll_pwait2(epfd, events, Int32(eventsCap), &ts)
            counters.syscalls &+= 1
            if rc < 0 {
                let e = errno
                if e != EINTR { throw Errno.fail(e, "epoll_pwait2 failed: \(Errno(e))") }
                return n  // a signal (or the kernel's task work) ended the wait early: like a timeout
            }
            for i in 0..<Int(rc) {
                let t = events[i].data.u64
                let idx = Int(truncatingIfNeeded: t & 0xFFFF_FFFF)
                if idx < capacity && slots[idx].gen == UInt32(truncatingIfNeeded: t &>> 32)
                    && slots[idx].state == ReaderSlot.active {
                    if events[i].events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                        slots[idx].hangup = true
                    }
                    enqueueReady(idx)
                }
            }
            let before = n
            n = drainReady(out, n, limit)
            if n > before && firstAt == 0 { firstAt = readerNow() }
            if n >= limit || (n > 0 && n >= minComplete) || minComplete == 0 || timeoutNs == 0 { return n }
            let now = readerNow()
            if timeoutNs > 0 && now &- start >= timeoutNs { return n }
            if n > 0 && now &- firstAt >= minWaitNs { return n }
        }
    }
}
