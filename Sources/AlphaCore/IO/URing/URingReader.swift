import CAlphaCoreShims
import CLibURing
import Glibc

/// io_uring's side of the backend contract (see ReaderBackend.swift).
///
/// The waits. With nothing watched, a poll makes one io_uring_enter that waits for
/// min_complete, min_wait and the timeout in the kernel, and a signal ends it (EINTR). A poll
/// that may wait more than once (watched fds: 1 ms slices; the spin profile: spinning, then a
/// wait) goes through the shared `pollMasked` (ReaderBackend.swift).
extension URingBackend: ReaderIOBackend {
    mutating func start(_ idx: Int, _ r: inout ReaderState) throws(Errno) { try armFirst(idx, &r) }

    mutating func willRemove(_ r: inout ReaderState) { flushSubmissions(&r) }

    mutating func remove(_ idx: Int, gen: UInt32, _ r: inout ReaderState) -> Bool {
        let s = r.table.slots + idx
        if s.pointee.watched { unwatch(idx, &r) }   // the slot may be reused before the next sweep
        watch.delete(s.pointee.fd)
        if !s.pointee.armed { return false }
        // The final completion of the cancelled read frees the slot.
        s.pointee.state = .draining
        cancel(idx, gen: gen, &r)
        return true
    }

    mutating func stopReading(_ idx: Int, _ r: inout ReaderState) {
        if r.table.slots[idx].armed { cancel(idx, gen: r.table.slots[idx].gen, &r) }
    }

    mutating func resume(_ idx: Int, _ r: inout ReaderState) {
        arm(idx, &r)
        watchSlot(idx, &r)   // a read armed again after ENOBUFS can stall: a suspect for the watch
    }

    func canResume(_ r: ReaderState) -> Bool { r.pool.kernelBufs > 0 }

    func starved(_ r: ReaderState) -> Int { r.pool.kernelBufs == 0 ? r.table.parkedCount : 0 }

    func owns(_ fd: Int32) -> Bool { fd == ring.fd || fd == watch.epfd }

    @inline(__always)
    mutating func takeReady(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: Int, max: Int) -> Int {
        harvest(&r, out, n, max)
    }

    mutating func takeNow(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: Int,
                          max: Int) throws(Errno) -> Int {
        if !ring.hasWork && !ring.sqPending { return n }  // nothing to submit, nothing deferred: no system call
        if let e = enter(&r, wait: 0, timeoutNs: 0, minWaitNs: 0), !URingBackend.benign(e) { throw URingBackend.enterFailed(e) }
        return harvest(&r, out, n, max)
    }

    /// One enter waits for min_complete, min_wait and the timeout in the kernel; watched fds
    /// need 1 ms slices.
    func waitsMoreThanOnce(_ n: Int, minComplete: Int) -> Bool { watch.count > 0 }

    mutating func waitOnceUnmasked(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: Int, max: Int,
                                   minComplete: Int, minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        let e = enter(&r, wait: UInt32(truncatingIfNeeded: minComplete &- n), timeoutNs: timeoutNs, minWaitNs: minWaitNs)
        if !URingBackend.benign(e), let e { throw URingBackend.enterFailed(e) }
        let got = harvest(&r, out, n, max)
        try checkStarved(r, got)
        return got
    }

    /// The errors an enter may end with that are not failures.
    @inline(__always)
    static func benign(_ e: Int32?) -> Bool {
        guard let e else { return true }
        return e == ETIME || e == EINTR || e == EAGAIN || e == EBUSY
    }

    @inline(never)
    static func enterFailed(_ e: Int32) -> Errno { Errno.fail(e, "io_uring_enter failed: \(Errno(e))") }

    // The waits of pollMasked: spinning peeks at the CQ tail and IORING_SQ_TASKRUN and enters
    // only with work; the blocking waits are 1 ms slices while fds are watched.
    var slicesWaits: Bool { watch.count > 0 }
    static var spinTurnsPerCheck: Int { 64 }

    mutating func spinStep(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>,
                           _ w: inout WaitState) throws(Errno) -> Bool {
        if !ring.sqPending && !ring.hasWork {
            acshim_cpu_relax()
            return false
        }
        if let e = enter(&r, wait: 0, timeoutNs: 0, minWaitNs: 0), !URingBackend.benign(e) { throw URingBackend.enterFailed(e) }
        w.n = harvest(&r, out, w.n, w.max)
        return w.done
    }

    mutating func spinChores(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>,
                             _ w: inout WaitState) -> Bool {
        if watch.count == 0 || w.n >= w.room { return false }
        sweepHangups(&r, out, &w.n, w.room, interval: waitSliceNs)
        return w.done
    }

    mutating func waitOnce(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ w: inout WaitState,
                           _ waitNs: Int64, _ mask: UnsafePointer<UInt64>) throws(Errno) -> Bool {
        let e = enter(&r, wait: UInt32(truncatingIfNeeded: w.minComplete &- w.n), timeoutNs: waitNs,
                      minWaitNs: w.n > 0 ? 0 : w.minWaitNs, mask: mask)
        if e == EINTR {   // a signal: return what there is
            w.n = harvest(&r, out, w.n, w.max)
            return false
        }
        if !URingBackend.benign(e), let e { throw URingBackend.enterFailed(e) }
        w.n = harvest(&r, out, w.n, w.max)
        if watch.count > 0 && w.n < w.room { sweepHangups(&r, out, &w.n, w.room, interval: waitSliceNs) }
        return true
    }
}
