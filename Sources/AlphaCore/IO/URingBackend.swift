import CAlphaCoreShims
import CLibURing
import Glibc

/// io_uring: one multishot recv (sockets) or read (pipes) armed per fd, all feeding one ring of
/// provided buffers (buffer group 0). The ring is SINGLE_ISSUER | DEFER_TASKRUN: completions
/// are produced only inside our own io_uring_enter, so one enter per poll submits the re-arms,
/// waits (bounded by the min-wait timer) and runs the deferred receive work.
extension ReaderCore {
    /// A power of two >= v (v is bounded by the validated options: never past 2^62).
    @inline(__always)
    static func roundUpPow2(_ v: Int) -> Int { RoundUp.powerOfTwo(v) ?? v }

    /// Sets up the ring and probes it: ring setup, opcode probe, NOP round trip, buffer ring.
    /// On failure everything is undone and `d` names the stage and the reason.
    mutating func setupURing(_ o: ReaderOptions, _ d: inout ReaderDetails) -> Result<Void, Errno> {
        let r = UnsafeMutablePointer<io_uring>.allocate(capacity: 1)
        r.initialize(to: io_uring())
        let sqEntries = ReaderCore.roundUpPow2(Swift.min(Swift.max(capacity, 64), 4096))
        let cqEntries = Swift.min(ReaderCore.roundUpPow2(bufCount + 3 * capacity + 64), 65536)
        var p = io_uring_params()
        let wantSQPoll = o.flags.contains(.sqpoll)
        if wantSQPoll {
            p.flags = UInt32(IORING_SETUP_SQPOLL) | UInt32(IORING_SETUP_SINGLE_ISSUER)
            if o.sqpollCPU >= 0 {
                p.flags |= UInt32(IORING_SETUP_SQ_AFF)
                p.sq_thread_cpu = UInt32(o.sqpollCPU)
            }
            p.sq_thread_idle = o.sqpollIdleMs == 0 ? 1000 : o.sqpollIdleMs
        } else {
            p.flags = UInt32(IORING_SETUP_SINGLE_ISSUER) | UInt32(IORING_SETUP_DEFER_TASKRUN) | UInt32(IORING_SETUP_TASKRUN_FLAG)
        }
        p.flags |= UInt32(IORING_SETUP_CQSIZE) | UInt32(IORING_SETUP_SUBMIT_ALL)
        p.cq_entries = UInt32(cqEntries)
        let rc = io_uring_queue_init_params(UInt32(sqEntries), r, &p)
        func fail(_ stage: ReaderProbeStage, _ err: Int32, _ why: String) -> Result<Void, Errno> {
            d.uringErrno = err
            d.uringStage = stage.rawValue
            d.reason = why
            return .failure(Errno(err))
        }
        if rc < 0 {
            r.deallocate()
            let e = 0 - rc
            return fail(.setup, e, ReaderCore.explainSetup(e, sq: sqEntries, cq: cqEntries, sqpollCPU: wantSQPoll ? o.sqpollCPU : -1))
        }
        ring = r
        sqpoll = wantSQPoll
        d.setupFlags = p.flags
        d.features = p.features
        d.sqEntries = p.sq_entries
        d.cqEntries = p.cq_entries
        minTimeout = p.features & UInt32(IORING_FEAT_MIN_TIMEOUT) != 0
        // Opcode probe: recv (multishot recv arrived with 6.0, as did SEND_ZC) and read multishot.
        guard let probe = io_uring_get_probe_ring(r) else {
            teardownURing()
            return fail(.opcodes, EOPNOTSUPP, "the kernel does not answer IORING_REGISTER_PROBE")
        }
        let hasRecv = io_uring_opcode_supported(probe, Int32(IORING_OP_RECV.rawValue)) != 0
        let hasZC = io_uring_opcode_supported(probe, Int32(IORING_OP_SEND_ZC.rawValue)) != 0
        readMultishot = io_uring_opcode_supported(probe, Int32(ACURING_OP_READ_MULTISHOT)) != 0
        io_uring_free_probe(probe)
        if !hasRecv || !hasZC {
            teardownURing()
            return fail(.opcodes, EOPNOTSUPP, "the kernel lacks multishot recv (needs Linux 6.0 or later)")
        }
        // NOP round trip.
        if let sqe = io_uring_get_sqe(r) {
            io_uring_prep_nop(sqe)
            sqe.pointee.user_data = ReaderCore.internalTag
        }
        if let e = enter(wait: 1, timeoutNs: 1_000_000_000, minWaitNs: 0), e != ETIME {
            teardownURing()
            return fail(.nop, e, "io_uring_enter failed: \(Errno(e))")
        }
        var nopSeen = false
        var head = r.pointee.cq.khead.unsafelyUnwrapped.pointee
        let tail = acshim_load_acquire_u32(r.pointee.cq.ktail.unsafelyUnwrapped)
        while head != tail {
            let cqe = r.pointee.cq.cqes.unsafelyUnwrapped + Int(head & r.pointee.cq.ring_mask)
            if cqe.pointee.user_data == ReaderCore.internalTag && cqe.pointee.res == 0 { nopSeen = true }
            head &+= 1
        }
        acshim_store_release_u32(r.pointee.cq.khead.unsafelyUnwrapped, head)
        if !nopSeen {
            teardownURing()
            return fail(.nop, EIO, "a NOP submitted to the ring did not complete within 1 s")
        }
        // The provided-buffer ring: bufCount entries of 16 bytes, page aligned.
        let ringBytes = RoundUp.multiple(bufCount * 16, of: ReaderMemory.pageSize) ?? bufCount * 16
        let mapped = SystemCall.valueOrErrno {
            Int(bitPattern: mmap(nil, ringBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        }
        let br: UnsafeMutableRawPointer
        switch mapped {
        case .success(let at): br = UnsafeMutableRawPointer(bitPattern: at).unsafelyUnwrapped   // mmap never maps page 0 here
        case .failure(let e):
            teardownURing()
            return fail(.bufferRing, e.code, "cannot map the buffer ring: \(e)")
        }
        var reg = io_uring_buf_reg()
        reg.ring_addr = UInt64(UInt(bitPattern: br))
        reg.ring_entries = UInt32(bufCount)
        reg.bgid = 0
        var brc: Int32 = -EINVAL
        if framing == .none && !o.flags.contains(.sqpoll) {
            // Incremental consumption (6.12): each read takes only the bytes it needs from the
            // current buffer, so small messages from many fds land side by side in a few
            // buffers (cache and TLB friendly) instead of one 4 KiB buffer per read.
            reg.pad = UInt16(ACURING_PBUF_RING_INC)   // struct io_uring_buf_reg.flags (liburing 2.3: pad)
            brc = io_uring_register_buf_ring(r, &reg, 0)
            if brc == 0 { bufOffset = ReaderMemory.allocate(bufCount, UInt32(0)) }
            reg.pad = 0
        }
        if brc < 0 { brc = io_uring_register_buf_ring(r, &reg, 0) }
        if brc < 0 {
            munmap(br, ringBytes)
            teardownURing()
            return fail(.bufferRing, 0 - brc, "IORING_REGISTER_PBUF_RING failed: \(Errno(0 - brc))")
        }
        bufRing = br
        bufRingBytes = ringBytes
        bufRingMask = bufCount - 1
        bufRingTail = 0
        for b in 0..<bufCount { recycle(b) }
        publishBuffers()
        // Saves the fd lookup on every enter (failure only costs that).
        if io_uring_register_ring_fd(r) == 1 { registeredRing = true }
        // The hang-up and stall watch (see sweepHangups), on both task-run modes: with
        // DEFER_TASKRUN an end found is handed out at once, with SQPOLL at the final
        // completion of the read it cancels.
        hupEpfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        watchHangups = hupEpfd >= 0
        if watchHangups { armHangupPoll() }
        backend = .ioURing
        return .success(())
    }

    /// Words for an io_uring_setup failure.
    static func explainSetup(_ e: Int32, sq: Int, cq: Int, sqpollCPU: Int32 = -1) -> String {
        let base = "io_uring_setup: \(Errno(e))"
        switch e {
        case EPERM:
            let disabled = SysFile.trimmed("/proc/sys/kernel/io_uring_disabled") ?? "?"
            if disabled == "2" { return base + "; kernel.io_uring_disabled = 2 (io_uring is off for everyone)" }
            if disabled == "1" { return base + "; kernel.io_uring_disabled = 1 (only kernel.io_uring_group or CAP_SYS_ADMIN)" }
            return base + "; a seccomp filter denies io_uring_setup (container default profiles do)"
        case ENOSYS:
            return base + "; the kernel has no io_uring, or a seccomp filter hides it"
        case ENOMEM:
            var lim = rlimit()
            getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &lim)
            let text = lim.rlim_cur == rlim_t.max ? "unlimited" : "\(lim.rlim_cur) bytes"
            return base + "; RLIMIT_MEMLOCK is \(text), too small for \(sq) SQ + \(cq) CQ entries"
        case EINVAL where sqpollCPU >= 0:
            return base + "; SQPOLL thread CPU \(sqpollCPU) is not an online CPU this thread may use"
        case EINVAL:
            return base + "; the kernel rejects SINGLE_ISSUER | DEFER_TASKRUN (needs Linux 6.1 or later)"
        default:
            return base
        }
    }

    /// Cancels everything, waits (at most 2 s) for the final completions, unmaps the ring.
    mutating func teardownURing() {
        guard let r = ring else { return }
        if armedCount > 0, bufRing != nil {
            if let sqe = nextSQE() {
                io_uring_prep_cancel64(sqe, 0, Int32(IORING_ASYNC_CANCEL_ANY))
                sqe.pointee.user_data = ReaderCore.internalTag
            }
            let deadline = readerNow() + 2_000_000_000
            withUnsafeTemporaryAllocation(of: ReaderCompletion.self, capacity: 64) { scratch in
                guard let out = scratch.baseAddress else { return }
                while armedCount > 0 && readerNow() < deadline {
                    _ = enter(wait: 1, timeoutNs: 50_000_000, minWaitNs: 0)
                    let n = harvest(out, 0, 64)
                    _ = release(UnsafeBufferPointer(start: out, count: n))
                }
            }
        }
        if hupEpfd >= 0 {
            close(hupEpfd)
            hupEpfd = -1
        }
        if let br = bufRing {
            _ = io_uring_unregister_buf_ring(r, 0)
            munmap(br, bufRingBytes)
            bufRing = nil
        }
        io_uring_queue_exit(r)
        r.deallocate()
        ring = nil
    }

    // MARK: - Submission

    /// A free SQE; submits what is queued when the SQ is full.
    @inline(__always)
    mutating func nextSQE() -> UnsafeMutablePointer<io_uring_sqe>? {
        guard let r = ring else { return nil }
        if let sqe = io_uring_get_sqe(r) { return sqe }
        _ = enter(wait: 0, timeoutNs: 0, minWaitNs: 0)
        if let sqe = io_uring_get_sqe(r) { return sqe }
        return sqpoll ? waitForSQE() : nil
    }

    /// Makes the kernel take every queued SQE now (with SQPOLL: waits, at most 1 s, until the
    /// kernel thread has taken them, waking it if it sleeps).
    mutating func flushSubmissions() {
        guard let r = ring else { return }
        if r.pointee.sq.sqe_tail == acshim_load_acquire_u32(r.pointee.sq.khead.unsafelyUnwrapped) { return }
        _ = enter(wait: 0, timeoutNs: 0, minWaitNs: 0)
        if !sqpoll { return }
        let deadline = readerNow() &+ 1_000_000_000
        while r.pointee.sq.sqe_tail != acshim_load_acquire_u32(r.pointee.sq.khead.unsafelyUnwrapped) && readerNow() < deadline {
            sched_yield()
            _ = enter(wait: 0, timeoutNs: 0, minWaitNs: 0)
        }
    }

    /// SQPOLL: the kernel thread consumes the SQ on its own; give it a moment (woken if it
    /// sleeps) rather than drop a re-arm.
    @inline(never)
    mutating func waitForSQE() -> UnsafeMutablePointer<io_uring_sqe>? {
        guard let r = ring else { return nil }
        for _ in 0..<10_000 {
            _ = enter(wait: 0, timeoutNs: 0, minWaitNs: 0)
            if let sqe = io_uring_get_sqe(r) { return sqe }
            sched_yield()
        }
        return nil
    }

    /// The multishot poll on the hang-up epoll set.
    mutating func armHangupPoll() {
        guard let sqe = nextSQE() else { return }
        io_uring_prep_poll_multishot(sqe, hupEpfd, UInt32(POLLIN))
        sqe.pointee.user_data = ReaderCore.hupToken
    }

    /// Arms the first read of a new fd (POLL_FIRST: the socket is most likely empty).
    mutating func armFirst(_ idx: Int) throws(Errno) {
        if !slots[idx].isSocket && !readMultishot {
            throw Errno.fail(EOPNOTSUPP, "fd \(slots[idx].fd) is not a socket and this kernel lacks IORING_OP_READ_MULTISHOT (Linux 6.7)")
        }
        if !arm(idx, pollFirst: false) {
            throw Errno.fail(EAGAIN, "the submission queue is full and could not be flushed")
        }
        if hupEpfd >= 0 {
            var ev = epoll_event()
            ev.events = EPOLLRDHUP.rawValue | EPOLLET.rawValue
            ev.data.u64 = ReaderCore.token(idx, slots[idx].gen)
            _ = epoll_ctl(hupEpfd, EPOLL_CTL_ADD, slots[idx].fd, &ev)
        }

    }

    /// Queues a multishot read for slot `idx` (submitted by the next enter).
    @discardableResult @inline(__always)
    mutating func arm(_ idx: Int, pollFirst: Bool) -> Bool {
        guard let sqe = nextSQE() else { return false }
        let s = slots + idx
        if s.pointee.isSocket {
            io_uring_prep_recv_multishot(sqe, s.pointee.fd, nil, 0, 0)
            if pollFirst { sqe.pointee.ioprio |= UInt16(IORING_RECVSEND_POLL_FIRST) }
        } else {
            io_uring_prep_rw(Int32(ACURING_OP_READ_MULTISHOT), sqe, s.pointee.fd, nil, 0, 0)
        }
        sqe.pointee.flags |= UInt8(ACURING_SQE_BUFFER_SELECT)
        sqe.pointee.buf_group = 0
        sqe.pointee.user_data = ReaderCore.token(idx, s.pointee.gen)
        s.pointee.armed = true
        armedCount &+= 1
        return true
    }

    /// Queues a cancel of slot `idx`'s read of generation `gen` (no completion on success).
    mutating func cancel(_ idx: Int, gen: UInt32) {
        guard let sqe = nextSQE() else { return }
        io_uring_prep_cancel64(sqe, ReaderCore.token(idx, gen), 0)
        sqe.pointee.flags |= UInt8(ACURING_SQE_CQE_SKIP_SUCCESS)
        sqe.pointee.user_data = ReaderCore.internalTag
    }

    /// One io_uring_enter: submits what is queued and, when `wait` > 0, waits for that many
    /// completions (bounded by timeoutNs, -1 = none, and the min-wait timer). Runs deferred
    /// work in any case. Returns nil or the errno.
    @inline(__always)
    mutating func enter(wait: UInt32, timeoutNs: Int64, minWaitNs: Int64, mask: UnsafePointer<UInt64>? = nil) -> Int32? {
        guard let r = ring else { return EBADF }
        let tail = r.pointee.sq.sqe_tail
        if r.pointee.sq.sqe_head != tail {
            r.pointee.sq.sqe_head = tail
            acshim_store_release_u32(r.pointee.sq.ktail.unsafelyUnwrapped, tail)
        }
        let toSubmit = tail &- acshim_load_acquire_u32(r.pointee.sq.khead.unsafelyUnwrapped)
        var flags = UInt32(IORING_ENTER_GETEVENTS) | UInt32(IORING_ENTER_EXT_ARG)
        var fd = r.pointee.ring_fd
        if registeredRing {
            flags |= UInt32(IORING_ENTER_REGISTERED_RING)
            fd = Int32(r.pointee.enter_ring_fd)
        }
        if sqpoll {
            // The kernel thread submits; wake it if it sleeps. Wait only when asked.
            if acshim_load_acquire_u32(r.pointee.sq.kflags.unsafelyUnwrapped) & UInt32(IORING_SQ_NEED_WAKEUP) != 0 {
                flags |= UInt32(IORING_ENTER_SQ_WAKEUP)
            } else if wait == 0 {
                return nil
            }
        }
        var ts = __kernel_timespec(tv_sec: timeoutNs / 1_000_000_000, tv_nsec: timeoutNs % 1_000_000_000)
        var arg = io_uring_getevents_arg()
        let rc = withUnsafeMutablePointer(to: &ts) { tsp in
            if wait > 0 && timeoutNs >= 0 { arg.ts = UInt64(UInt(bitPattern: tsp)) }
            if wait > 0, let m = mask {
                // The caller's signal mask for the wait (signals are blocked around it; see
                // pollURingMasked): a pending signal ends the wait with EINTR.
                arg.sigmask = UInt64(UInt(bitPattern: m))
                arg.sigmask_sz = UInt32(ACSHIM_KERNEL_SIGSET_BYTES)
            }
            if wait > 0 && minWaitNs > 0 && minTimeout {
                // struct io_uring_getevents_arg.min_wait_usec (6.12) is liburing 2.3's `pad`.
                // The kernel arms the min-wait timer before the timeout, so a min_wait beyond the
                // timeout would stretch the wait to it: clamp (this also covers the 1 ms slices).
                // Rounded up without overflow (min_wait_ns may be INT64_MAX).
                let m = timeoutNs >= 0 ? Swift.min(minWaitNs, timeoutNs) : minWaitNs
                arg.pad = UInt32(truncatingIfNeeded: Swift.min(m / 1000 &+ (m % 1000 != 0 ? 1 : 0), Int64(UInt32.max)))
            }
            return SystemCall.valueOrErrnoOnce {   // EINTR ends the wait: no retry
                acshim_io_uring_enter(fd, sqpoll ? 0 : toSubmit, wait, flags, &arg, MemoryLayout<io_uring_getevents_arg>.size)
            }
        }
        counters.syscalls &+= 1
        if acshim_load_acquire_u32(r.pointee.sq.kflags.unsafelyUnwrapped) & UInt32(IORING_SQ_CQ_OVERFLOW) != 0 { counters.overflows &+= 1 }
        if case .failure(let e) = rc { return e.code }
        return nil
    }

    // MARK: - Harvest

    /// Turns the CQEs the kernel has posted into completions (at most `max` in `out`, from
    /// index n0). No allocation and no runtime call: loads, stores and the framing copy only.
    @inline(__always)
    mutating func harvest(_ out: UnsafeMutablePointer<ReaderCompletion>, _ n0: Int, _ max: Int) -> Int {
        guard let r = ring else { return n0 }
        var n = n0
        let khead = r.pointee.cq.khead.unsafelyUnwrapped
        let cqes = r.pointee.cq.cqes.unsafelyUnwrapped
        let mask = r.pointee.cq.ring_mask
        var head = khead.pointee
        let tail = acshim_load_acquire_u32(r.pointee.cq.ktail.unsafelyUnwrapped)
        let limit = framing == .none ? max : max &- 2
        while head != tail && n < limit {
            let cqe = cqes + Int(head & mask)
            let ud = cqe.pointee.user_data
            let res = cqe.pointee.res
            let fl = cqe.pointee.flags
            head &+= 1
            if ud & ReaderCore.internalTag != 0 {
                if ud == ReaderCore.hupToken {
                    hupEvents = true
                    if fl & UInt32(IORING_CQE_F_MORE) == 0 && hupEpfd >= 0 { armHangupPoll() }
                }
                continue
            }
            let idx = Int(truncatingIfNeeded: ud & 0xFFFF_FFFF)
            if idx >= capacity { continue }
            let s = slots + idx
            let more = fl & UInt32(IORING_CQE_F_MORE) != 0
            let hasBuffer = fl & UInt32(IORING_CQE_F_BUFFER) != 0
            let bid = Int(truncatingIfNeeded: fl &>> 16)
            var off = 0
            if hasBuffer {
                if let bo = bufOffset {
                    // Incremental buffers: this piece starts where the buffer's last one ended;
                    // without BUF_MORE the kernel is done with the buffer.
                    var v = bo[bid]
                    off = Int(v & ~ReaderCore.inKernel)
                    if res > 0 { v &+= UInt32(truncatingIfNeeded: res) }
                    if fl & UInt32(IORING_CQE_F_BUF_MORE) == 0 {
                        kernelBufs &-= 1
                        v &= ~ReaderCore.inKernel
                    }
                    bo[bid] = v
                } else {
                    kernelBufs &-= 1
                }
            }
            if UInt32(truncatingIfNeeded: ud &>> 32) != s.pointee.gen || s.pointee.state != ReaderSlot.active {
                // A removed (or stopped) fd: drop the data, free the slot after its last CQE.
                if hasBuffer { dropBuffer(bid) }
                if !more {
                    s.pointee.armed = false
                    armedCount &-= 1
                    if s.pointee.state == ReaderSlot.draining && UInt32(truncatingIfNeeded: ud &>> 32) != s.pointee.gen {
                        freeSlot(idx)
                    }
                }
                continue
            }
            if !more {
                s.pointee.armed = false
                armedCount &-= 1
                if s.pointee.endPending {
                    // SQPOLL: the read the watch cancelled has ended; every byte it took is out.
                    finishPendingEnd(idx, res, bid, off, out, &n)
                    continue
                }
            }
            if res > 0 {
                s.pointee.sawData = false
                deliver(idx, bid, off, Int(res), out, &n)
                if !more && s.pointee.state == ReaderSlot.active {
                    // The kernel ended the multishot (CQ pressure, buffer limits): arm it again.
                    counters.rearms &+= 1
                    arm(idx, pollFirst: false)
                }
            } else if res == 0 && s.pointee.isDatagram {
                // A datagram of 0 bytes: no end, nothing to hand out.
                if hasBuffer { dropBuffer(bid) }
                if !more && s.pointee.state == ReaderSlot.active {
                    counters.rearms &+= 1
                    arm(idx, pollFirst: false)
                }
            } else if hasBuffer {
                dropBuffer(bid)   // a buffer without data (not expected): back to the kernel
                if !more { deliverEnd(idx, res, out, &n) }
            } else if more {
                continue
            } else if res == -ECANCELED && s.pointee.restart {
                // The stuck read we cancelled: arm it again (the data is still in the socket).
                s.pointee.restart = false
                counters.rearms &+= 1
                arm(idx, pollFirst: false)
            } else if res == -ENOBUFS {
                // No free buffer: the data stays in the socket until buffers come back.
                counters.enobufs &+= 1
                park(idx)

            } else {
                deliverEnd(idx, res, out, &n)
            }
        }
        acshim_store_release_u32(khead, head)
        if hupEvents { collectHangups() }
        if hupCount > 0 && head == tail {
            // Fds that hung up: at once, then every millisecond until their end is out.
            sweepHangups(out, &n, limit, interval: 1_000_000)
        }
        if watchHangups {
            // Stall watch over all fds, paid by activity: one check per 4096 completions
            // (pollURing also checks 32 fds after every 10 ms wait slice that ends empty).
            sinceCheck &+= n &- n0
            if sinceCheck >= 4096 && head == tail {
                sinceCheck = 0
                checkRoundRobin(1, out, &n, limit)
            }
        }
        publishBuffers()
        if parkedCount > 0 && kernelBufs > 0 { resumeParked() }
        return n
    }

}
