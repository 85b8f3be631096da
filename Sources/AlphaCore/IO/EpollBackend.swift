import CAlphaCoreShims
import Glibc

/// epoll: every fd registered edge-triggered; a ready fd is read once per round (round-robin
/// over the ready queue) into a free buffer of the same pool, until a short read or EAGAIN says
/// it is drained. The same completions, release and framing as on io_uring.
extension ReaderCore {
    mutating func setupEpoll() throws(Errno) {
        epfd = try SystemCall.check("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        backend = .epoll
        freeCount = 0
        for b in stride(from: bufCount - 1, through: 0, by: -1) { recycle(b) }
    }

    mutating func epollAdd(_ idx: Int) throws(Errno) {
        let s = slots + idx
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        ev.data.u64 = ReaderCore.token(idx, s.pointee.gen)
        try SystemCall.check("epoll_ctl(ADD) of fd \(s.pointee.fd)") { epoll_ctl(epfd, EPOLL_CTL_ADD, s.pointee.fd, &ev) }
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

    /// Reads the queued fds round-robin, one buffer per turn, while there is room and a free
    /// buffer. A fd stays queued until a read shows it drained: a short read of a stream (a
    /// socket or pipe: new data brings a new edge), EAGAIN, or its end; a datagram socket stays
    /// queued until EAGAIN (each read is one datagram). So a fd with unread bytes is always
    /// handed out by the next poll that has room.
    @inline(__always)
    mutating func drainReady(_ out: UnsafeMutablePointer<ReaderCompletion>, _ n0: Int, _ limit: Int) -> Int {
        var n = n0
        while readyCount > 0 && n < limit {
            if freeCount == 0 {
                counters.enobufs &+= 1
                break
            }
            let idx = Int(ready[readyHead])
            readyHead &+= 1
            if readyHead == capacity { readyHead = 0 }
            readyCount &-= 1
            let s = slots + idx
            s.pointee.queued = false
            if s.pointee.state != ReaderSlot.active { continue }
            freeCount &-= 1
            let bid = Int(freeList[freeCount])
            let buf = bufferAddress(bid)
            let read = SystemCall.valueOrErrno {
                s.pointee.isSocket ? recv(s.pointee.fd, buf, bufSize, Int32(MSG_DONTWAIT)) : acshim_read_nowait(s.pointee.fd, buf, bufSize)
            }
            counters.syscalls &+= 1
            let got: Int
            switch read {
            case .success(let v): got = v
            case .failure(let e): got = Int(0 - e.code)
            }
            if got > 0 {
                deliver(idx, bid, 0, got, out, &n)
                // More may wait: back of the queue, for fairness. After a hang-up the end must
                // still be read: no new edge will come for it.
                if (got == bufSize || s.pointee.hangup || s.pointee.isDatagram) && s.pointee.state == ReaderSlot.active {
                    enqueueReady(idx)
                }
                continue
            }
            freeList[freeCount] = UInt32(truncatingIfNeeded: bid)
            freeCount &+= 1
            if got == 0 && s.pointee.isDatagram {
                enqueueReady(idx)   // a datagram of 0 bytes: no end, nothing to hand out
            } else if got == 0 {
                deliverEnd(idx, 0, out, &n)
                epollRemove(idx)
            } else {
                // EINTR was retried; EAGAIN: drained (a new edge brings the fd back).
                if got == -Int(EAGAIN) || got == -Int(EWOULDBLOCK) { continue }
                deliverEnd(idx, Int32(truncatingIfNeeded: got), out, &n)
                epollRemove(idx)
            }
        }
        return n
    }

    /// Queues the fds of `count` epoll events.
    @inline(__always)
    mutating func takeEvents(_ count: Int) {
        for i in 0..<count {
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
    }

    /// One epoll_pwait2 (waitNs -1 = no limit), its events queued; with `mask`, the caller's
    /// signal mask for the wait. Returns false when a signal ended it.
    @inline(__always)
    mutating func epollWait(_ waitNs: Int64, mask: UnsafePointer<UInt64>?) throws(Errno) -> Bool {
        var ts = timespec(tv_sec: Int(Swift.max(waitNs, 0) / 1_000_000_000), tv_nsec: Int(Swift.max(waitNs, 0) % 1_000_000_000))
        let result = SystemCall.valueOrErrnoOnce {   // EINTR ends the wait: no retry
            if let m = mask {
                return waitNs < 0 ? acshim_epoll_pwait2_mask(epfd, events, Int32(eventsCap), nil, m)
                                  : acshim_epoll_pwait2_mask(epfd, events, Int32(eventsCap), &ts, m)
            }
            return waitNs < 0 ? acshim_epoll_pwait2(epfd, events, Int32(eventsCap), nil)
                              : acshim_epoll_pwait2(epfd, events, Int32(eventsCap), &ts)
        }
        counters.syscalls &+= 1
        switch result {
        case .success(let got):
            takeEvents(got)
            return true
        case .failure(let e):
            if e.code != EINTR { throw ReaderCore.epollFailed(e.code) }
            return false  // a signal ended the wait early: like a timeout
        }
    }

    /// Kept out of line: no string work in the poll's body.
    @inline(never)
    static func epollFailed(_ e: Int32) -> Errno { Errno.fail(e, "epoll_pwait2 failed: \(Errno(e))") }

    mutating func pollEpoll(_ out: UnsafeMutablePointer<ReaderCompletion>, max: Int, minComplete: Int,
                            minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        let limit = framing == .none ? max : max &- 2
        let n = drainReady(out, 0, limit)
        if n >= limit || (n > 0 && n >= minComplete) { return n }
        if n == 0 && freeCount == 0 && readyCount > 0 {
            throw ReaderCore.noBuffers(readyCount)
        }
        if minComplete == 0 || timeoutNs == 0 {
            _ = try epollWait(0, mask: nil)
            return drainReady(out, n, limit)
        }
        if spinNs != 0 || minComplete &- n > 1 {
            return try pollEpollMasked(out, n, limit: limit, minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs)
        }
        // One wait for one completion: a signal ends it.
        if try !epollWait(timeoutNs, mask: nil) { return n }
        return drainReady(out, n, limit)
    }

    /// A poll that may wait more than once (spinning, or min_complete beyond one), with
    /// signals blocked in between and the caller's mask in each wait (see URingWait.swift).
    @inline(never)
    mutating func pollEpollMasked(_ out: UnsafeMutablePointer<ReaderCompletion>, _ n0: Int, limit: Int, minComplete: Int,
                                  minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        var old: UInt64 = 0
        _ = acshim_signals_block(&old)
        counters.syscalls &+= 2
        defer { _ = acshim_signals_restore(&old) }
        var w = WaitState(n: n0, start: readerNow(), minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs, room: limit)
        if spinNs != 0 {
            let budgetEnd = spinNs < 0 ? Int64.max : w.start &+ spinNs
            var lastSignalCheck = w.start
            while true {
                _ = try epollWait(0, mask: nil)
                w.took(drainReady(out, w.n, limit))
                let now = readerNow()
                if w.expired(now) { return w.n }
                if w.n == 0 && freeCount == 0 && readyCount > 0 { throw ReaderCore.noBuffers(readyCount) }
                if now &- lastSignalCheck >= ReaderCore.spinSignalCheckNs {
                    lastSignalCheck = now
                    counters.syscalls &+= 1
                    if acshim_signals_pending(&old) != 0 { return w.n }
                }
                if now >= budgetEnd { break }
            }
        }
        while true {
            guard let t = w.nextWaitNs(readerNow(), sliced: false) else { return w.n }
            let woke = try withUnsafePointer(to: &old) { m throws(Errno) in try epollWait(t, mask: m) }
            w.took(drainReady(out, w.n, limit))
            if !woke || w.done { return w.n }
            if w.n == 0 && freeCount == 0 && readyCount > 0 { throw ReaderCore.noBuffers(readyCount) }
        }
    }
}
