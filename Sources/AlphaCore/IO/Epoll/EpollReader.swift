import CAlphaCoreShims
import Glibc

/// epoll's side of the backend contract (see ReaderBackend.swift).
extension EpollBackend: ReaderIOBackend {
    mutating func start(_ idx: Int, _ r: inout ReaderState) throws(Errno) {
        let s = r.table.slots + idx
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        ev.data.u64 = FdTable.token(idx, s.pointee.gen)
        try SystemCall.check("epoll_ctl(ADD) of fd \(s.pointee.fd)") { epoll_ctl(epfd, EPOLL_CTL_ADD, s.pointee.fd, &ev) }
    }

    func willRemove(_ r: inout ReaderState) {}

    mutating func remove(_ idx: Int, gen: UInt32, _ r: inout ReaderState) -> Bool {
        stopReading(idx, &r)
        return false
    }

    func stopReading(_ idx: Int, _ r: inout ReaderState) {
        var ev = epoll_event()
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, r.table.slots[idx].fd, &ev)  // EBADF after a close: nothing to undo
    }

    mutating func resume(_ idx: Int, _ r: inout ReaderState) { enqueueReady(idx, &r) }

    func canResume(_ r: ReaderState) -> Bool { true }

    func starved(_ r: ReaderState) -> Int { r.pool.freeCount == 0 ? readyCount : 0 }

    func owns(_ fd: Int32) -> Bool { fd == epfd }

    mutating func teardown(_ r: inout ReaderState) {
        close(epfd)
        events.deallocate()
        ready.deallocate()
    }

    mutating func poll(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, max: Int, minComplete: Int,
                       minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        let limit = r.room(max)
        let n = drainReady(&r, out, 0, limit)
        if n >= limit || (n > 0 && n >= minComplete) { return n }
        if n == 0 && r.pool.freeCount == 0 && readyCount > 0 {
            throw ReaderState.noBuffers(readyCount)
        }
        if minComplete == 0 || timeoutNs == 0 {
            _ = try wait(&r, 0, mask: nil)
            return drainReady(&r, out, n, limit)
        }
        if r.spinNs != 0 || minComplete &- n > 1 {
            var w = WaitState(n: n, max: max, room: limit, minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs)
            return try pollMasked(&r, out, &w)
        }
        // One wait for one completion: a signal ends it.
        if try !wait(&r, timeoutNs, mask: nil) { return n }
        return drainReady(&r, out, n, limit)
    }

    // The waits of pollMasked: spinning is epoll_pwait2 with a zero timeout.
    var slicesWaits: Bool { false }
    static var spinTurnsPerCheck: Int { 1 }

    mutating func spinStep(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>,
                           _ w: inout WaitState) throws(Errno) -> Bool {
        _ = try wait(&r, 0, mask: nil)
        w.n = drainReady(&r, out, w.n, w.room)
        return false
    }

    func spinChores(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ w: inout WaitState) -> Bool { false }

    mutating func waitOnce(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ w: inout WaitState,
                           _ waitNs: Int64, _ mask: UnsafePointer<UInt64>) throws(Errno) -> Bool {
        let woke = try wait(&r, waitNs, mask: mask)
        w.n = drainReady(&r, out, w.n, w.room)
        return woke
    }
}
