import CAlphaCoreShims
import CLibURing
import Glibc

/// io_uring submission: SQEs for reads and cancels, and the one io_uring_enter.
extension URingBackend {
    /// A free SQE; submits what is queued when the SQ is full.
    @inline(__always)
    mutating func nextSQE(_ r: inout ReaderState) -> UnsafeMutablePointer<io_uring_sqe>? {
        if let sqe = ring.getSQE() { return sqe }
        _ = enter(&r, wait: 0, timeoutNs: 0, minWaitNs: 0)
        if let sqe = ring.getSQE() { return sqe }
        return sqpoll ? waitForSQE(&r) : nil
    }

    /// Makes the kernel take every queued SQE now (with SQPOLL: waits, at most 1 s, until the
    /// kernel thread has taken them, waking it if it sleeps).
    mutating func flushSubmissions(_ r: inout ReaderState) {
        if !ring.sqPending { return }
        _ = enter(&r, wait: 0, timeoutNs: 0, minWaitNs: 0)
        if !sqpoll { return }
        let deadline = readerNow() &+ 1_000_000_000
        while ring.sqPending && readerNow() < deadline {
            sched_yield()
            _ = enter(&r, wait: 0, timeoutNs: 0, minWaitNs: 0)
        }
    }

    /// SQPOLL: the kernel thread consumes the SQ on its own; give it a moment (woken if it
    /// sleeps) rather than drop a re-arm.
    @inline(never)
    mutating func waitForSQE(_ r: inout ReaderState) -> UnsafeMutablePointer<io_uring_sqe>? {
        for _ in 0..<10_000 {
            _ = enter(&r, wait: 0, timeoutNs: 0, minWaitNs: 0)
            if let sqe = ring.getSQE() { return sqe }
            sched_yield()
        }
        return nil
    }

    /// Arms the first read of a new fd, and puts it in the hang-up set.
    mutating func armFirst(_ idx: Int, _ r: inout ReaderState) throws(Errno) {
        let s = r.table.slots + idx
        if !s.pointee.isSocket && !readMultishot {
            throw Errno.fail(EOPNOTSUPP, "fd \(s.pointee.fd) is not a socket and this kernel lacks IORING_OP_READ_MULTISHOT (Linux 6.7)")
        }
        if !arm(idx, &r) {
            throw Errno.fail(EAGAIN, "the submission queue is full and could not be flushed")
        }
        watch.add(s.pointee.fd, FdTable.token(idx, s.pointee.gen))
    }

    /// Queues a multishot read for slot `idx` (submitted by the next enter).
    @discardableResult @inline(__always)
    mutating func arm(_ idx: Int, _ r: inout ReaderState) -> Bool {
        guard let sqe = nextSQE(&r) else { return false }
        let s = r.table.slots + idx
        if s.pointee.isSocket {
            io_uring_prep_recv_multishot(sqe, s.pointee.fd, nil, 0, 0)
        } else {
            io_uring_prep_rw(Int32(ACURING_OP_READ_MULTISHOT), sqe, s.pointee.fd, nil, 0, 0)
        }
        sqe.pointee.flags |= UInt8(ACURING_SQE_BUFFER_SELECT)
        sqe.pointee.buf_group = 0
        sqe.pointee.user_data = FdTable.token(idx, s.pointee.gen)
        s.pointee.armed = true
        armedCount &+= 1
        return true
    }

    /// A read the kernel ended (or a stuck one cancelled) is armed again.
    @inline(__always)
    mutating func rearm(_ idx: Int, _ r: inout ReaderState) {
        r.counters.rearms &+= 1
        arm(idx, &r)
    }

    /// Queues a cancel of slot `idx`'s read of generation `gen` (no completion on success).
    mutating func cancel(_ idx: Int, gen: UInt32, _ r: inout ReaderState) {
        guard let sqe = nextSQE(&r) else { return }
        io_uring_prep_cancel64(sqe, FdTable.token(idx, gen), 0)
        sqe.pointee.flags |= UInt8(ACURING_SQE_CQE_SKIP_SUCCESS)
        sqe.pointee.user_data = URingBackend.internalTag
    }

    /// The multishot poll on the hang-up epoll set.
    mutating func armHangupPoll(_ r: inout ReaderState) {
        guard let sqe = nextSQE(&r) else { return }
        io_uring_prep_poll_multishot(sqe, watch.epfd, UInt32(POLLIN))
        sqe.pointee.user_data = URingBackend.hangupToken
    }

    /// One io_uring_enter: submits what is queued and, when `wait` > 0, waits for that many
    /// completions (bounded by timeoutNs, -1 = none, and the min-wait timer; with `mask`, the
    /// caller's signal mask for the wait: a pending signal ends it with EINTR). Runs deferred
    /// work in any case. Returns nil or the errno.
    @inline(__always)
    mutating func enter(_ r: inout ReaderState, wait: UInt32, timeoutNs: Int64, minWaitNs: Int64,
                        mask: UnsafePointer<UInt64>? = nil) -> Int32? {
        let toSubmit = ring.flushSQ()
        var flags = UInt32(IORING_ENTER_GETEVENTS)
        var fd = ring.fd
        if registeredRing {
            flags |= UInt32(IORING_ENTER_REGISTERED_RING)
            fd = Int32(ring.ring.pointee.enter_ring_fd)
        }
        if sqpoll {
            // The kernel thread submits; wake it if it sleeps. Wait only when asked.
            if ring.sqFlags & UInt32(IORING_SQ_NEED_WAKEUP) != 0 {
                flags |= UInt32(IORING_ENTER_SQ_WAKEUP)
            } else if wait == 0 {
                return nil
            }
        }
        var minWaitUs: UInt32 = 0
        if wait > 0 && minWaitNs > 0 && minTimeout {
            // The kernel arms the min-wait timer before the timeout, so a min_wait beyond the
            // timeout would stretch the wait to it: clamp (this also covers the 1 ms slices).
            // Rounded up without overflow (min_wait_ns may be INT64_MAX).
            let m = timeoutNs >= 0 ? Swift.min(minWaitNs, timeoutNs) : minWaitNs
            minWaitUs = UInt32(truncatingIfNeeded: Swift.min(m / 1000 &+ (m % 1000 != 0 ? 1 : 0), Int64(UInt32.max)))
        }
        let rc = RingView.enter(fd, toSubmit: sqpoll ? 0 : toSubmit, wait: wait, flags: flags,
                                waitNs: wait > 0 ? timeoutNs : -1, minWaitUs: minWaitUs, mask: wait > 0 ? mask : nil)
        r.counters.syscalls &+= 1
        if ring.sqFlags & UInt32(IORING_SQ_CQ_OVERFLOW) != 0 { r.counters.overflows &+= 1 }
        if case .failure(let e) = rc { return e.code }
        return nil
    }
}
