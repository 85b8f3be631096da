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

    @inline(__always)
    mutating func takeReady(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: Int, max: Int) -> Int {
        drainReady(&r, out, n, r.room(max))
    }

    mutating func takeNow(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: Int,
                          max: Int) throws(Errno) -> Int {
        _ = try wait(&r, 0, mask: nil)
        return drainReady(&r, out, n, r.room(max))
    }

    /// epoll_pwait2 returns at the first ready fd: more than one completion to wait for may
    /// take several waits.
    func waitsMoreThanOnce(_ n: Int, minComplete: Int) -> Bool { minComplete &- n > 1 }

    mutating func waitOnceUnmasked(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: Int, max: Int,
                                   minComplete: Int, minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        if try !wait(&r, timeoutNs, mask: nil) { return n }
        return drainReady(&r, out, n, r.room(max))
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
