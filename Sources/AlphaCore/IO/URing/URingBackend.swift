import CAlphaCoreShims
import CLibURing
import Glibc

/// io_uring: one multishot recv (sockets) or read (pipes) armed per fd, all feeding one ring of
/// provided buffers (buffer group 0). The ring is SINGLE_ISSUER | DEFER_TASKRUN: completions
/// are produced only inside our own io_uring_enter, so one enter per poll submits the re-arms,
/// waits (bounded by the min-wait timer) and runs the deferred receive work.
struct URingBackend {
    let ring: RingView
    /// A kernel thread submits (IORING_SETUP_SQPOLL) instead of DEFER_TASKRUN.
    var sqpoll = false
    /// The kernel has the min-wait timer (IORING_FEAT_MIN_TIMEOUT).
    var minTimeout = false
    /// IORING_OP_READ_MULTISHOT is there (non-socket fds can be read).
    var readMultishot = false
    /// The ring fd is registered (IORING_ENTER_REGISTERED_RING).
    var registeredRing = false
    /// The buffer ring is registered with the kernel (group 0).
    var buffersRegistered = false
    /// Multishot reads in flight.
    var armedCount = 0
    var watch: HangupWatch

    /// Internal requests (NOP, cancels) carry this bit in user_data.
    static let internalTag: UInt64 = 1 &<< 63
    /// The multishot poll on the hang-up epoll set.
    static let hangupToken: UInt64 = (1 &<< 63) | 2

    /// Why setup stopped: the stage, the errno and the words for `ReaderDetails`.
    struct SetupFailure: Error {
        let stage: ReaderProbeStage
        let code: Int32
        let why: String
    }

    /// Sets up the ring and probes it, one stage per function: ring setup, opcode probe, NOP
    /// round trip, buffer ring; then the registered ring fd and the hang-up watch (both only
    /// cost speed when refused). A failed stage goes through the one undo path (`teardown`),
    /// and `d` names the stage and the reason.
    static func setUp(_ o: ReaderOptions, _ r: inout ReaderState,
                      _ d: inout ReaderDetails) -> Result<UnsafeMutablePointer<URingBackend>, Errno> {
        var b: URingBackend
        do throws(SetupFailure) {
            b = try makeRing(o, r.table.capacity, r.pool.count, &d)
        } catch {
            return .failure(record(error, &d))
        }
        do throws(SetupFailure) {
            try b.probeOpcodes()
            try b.nopRoundTrip(&r)
            try b.registerBuffers(o, &r)
        } catch {
            b.teardown(&r)
            return .failure(record(error, &d))
        }
        // Saves the fd lookup on every enter (failure only costs that).
        if io_uring_register_ring_fd(b.ring.ring) == 1 { b.registeredRing = true }
        b.startWatch(&r)
        let p = UnsafeMutablePointer<URingBackend>.allocate(capacity: 1)
        p.initialize(to: b)
        return .success(p)
    }

    static func record(_ f: SetupFailure, _ d: inout ReaderDetails) -> Errno {
        d.uringErrno = f.code
        d.uringStage = f.stage.rawValue
        d.reason = f.why
        return Errno(f.code)
    }

    /// Stage 1: io_uring_setup with the flags of the options (SQPOLL, or SINGLE_ISSUER |
    /// DEFER_TASKRUN), a CQ sized for every buffer plus re-arms.
    static func makeRing(_ o: ReaderOptions, _ capacity: Int, _ bufCount: Int,
                         _ d: inout ReaderDetails) throws(SetupFailure) -> URingBackend {
        let sqEntries = RoundUp.powerOfTwo(Swift.min(Swift.max(capacity, 64), 4096)) ?? 4096
        let cqEntries = Swift.min(RoundUp.powerOfTwo(bufCount + 3 * capacity + 64) ?? 65536, 65536)
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
        let r = UnsafeMutablePointer<io_uring>.allocate(capacity: 1)
        r.initialize(to: io_uring())
        let rc = io_uring_queue_init_params(UInt32(sqEntries), r, &p)
        if rc < 0 {
            r.deallocate()
            throw SetupFailure(stage: .setup, code: 0 - rc, why: explainSetup(0 - rc, sq: sqEntries, cq: cqEntries,
                                                                                sqpollCPU: wantSQPoll ? o.sqpollCPU : -1))
        }
        d.setupFlags = p.flags
        d.features = p.features
        d.sqEntries = p.sq_entries
        d.cqEntries = p.cq_entries
        var b = URingBackend(ring: RingView(ring: r), watch: HangupWatch(capacity: capacity))
        b.sqpoll = wantSQPoll
        b.minTimeout = p.features & UInt32(IORING_FEAT_MIN_TIMEOUT) != 0
        return b
    }

    /// Stage 2: the opcodes: recv (multishot recv arrived with 6.0, as did SEND_ZC) and read
    /// multishot (6.7, for pipes and other non-sockets).
    mutating func probeOpcodes() throws(SetupFailure) {
        guard let probe = io_uring_get_probe_ring(ring.ring) else {
            throw SetupFailure(stage: .opcodes, code: EOPNOTSUPP, why: "the kernel does not answer IORING_REGISTER_PROBE")
        }
        let hasRecv = io_uring_opcode_supported(probe, Int32(IORING_OP_RECV.rawValue)) != 0
        let hasZC = io_uring_opcode_supported(probe, Int32(IORING_OP_SEND_ZC.rawValue)) != 0
        readMultishot = io_uring_opcode_supported(probe, Int32(ACURING_OP_READ_MULTISHOT)) != 0
        io_uring_free_probe(probe)
        if !hasRecv || !hasZC {
            throw SetupFailure(stage: .opcodes, code: EOPNOTSUPP, why: "the kernel lacks multishot recv (needs Linux 6.0 or later)")
        }
    }

    /// Stage 3: a NOP goes through the ring and comes back within 1 s.
    mutating func nopRoundTrip(_ r: inout ReaderState) throws(SetupFailure) {
        if let sqe = ring.getSQE() {
            io_uring_prep_nop(sqe)
            sqe.pointee.user_data = URingBackend.internalTag
        }
        if let e = enter(&r, wait: 1, timeoutNs: 1_000_000_000, minWaitNs: 0), e != ETIME {
            throw SetupFailure(stage: .nop, code: e, why: "io_uring_enter failed: \(Errno(e))")
        }
        var nopSeen = false
        ring.forEachCQE { cqe in
            if cqe.pointee.user_data == URingBackend.internalTag && cqe.pointee.res == 0 { nopSeen = true }
        }
        if !nopSeen {
            throw SetupFailure(stage: .nop, code: EIO, why: "a NOP submitted to the ring did not complete within 1 s")
        }
    }

    /// Stage 4: the provided-buffer ring (bufCount entries of 16 bytes, page aligned),
    /// registered as group 0 and filled with every buffer.
    mutating func registerBuffers(_ o: ReaderOptions, _ r: inout ReaderState) throws(SetupFailure) {
        let count = r.pool.count
        let bytes = RoundUp.multiple(count * 16, of: ReaderMemory.pageSize) ?? count * 16
        let base: UnsafeMutableRawPointer
        do throws(Errno) {
            base = try ReaderMemory.mapAnonymous(bytes, what: "the buffer ring")
        } catch {
            throw SetupFailure(stage: .bufferRing, code: error.code, why: "cannot map the buffer ring: \(error)")
        }
        r.pool.kernelRing = BufRingView(base: base, bytes: bytes, entries: count)
        var reg = io_uring_buf_reg()
        reg.ring_addr = UInt64(UInt(bitPattern: base))
        reg.ring_entries = UInt32(count)
        reg.bgid = 0
        var rc: Int32 = -EINVAL
        if o.framing == .none && !o.flags.contains(.sqpoll) {
            // Incremental consumption (6.12): each read takes only the bytes it needs from the
            // current buffer, so small messages from many fds land side by side in a few
            // buffers (cache and TLB friendly) instead of one 4 KiB buffer per read.
            reg.pad = UInt16(ACURING_PBUF_RING_INC)   // struct io_uring_buf_reg.flags (liburing 2.3: pad)
            rc = io_uring_register_buf_ring(ring.ring, &reg, 0)
            if rc == 0 { r.pool.pieceOffset = ReaderMemory.allocate(count, UInt32(0)) }
            reg.pad = 0
        }
        if rc < 0 { rc = io_uring_register_buf_ring(ring.ring, &reg, 0) }
        if rc < 0 {
            throw SetupFailure(stage: .bufferRing, code: 0 - rc, why: "IORING_REGISTER_PBUF_RING failed: \(Errno(0 - rc))")
        }
        buffersRegistered = true
        for b in 0..<count { r.pool.recycle(b) }
        r.pool.publish()
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

    /// The one undo path (a failed setup stage, destroy): cancels every read, waits (at most
    /// 2 s) for the final completions, then undoes what setup built: the watch, the buffer
    /// ring, the ring.
    mutating func teardown(_ r: inout ReaderState) {
        if armedCount > 0 && buffersRegistered { cancelAll(&r) }
        watch.close()
        if let br = r.pool.kernelRing {
            if buffersRegistered { _ = io_uring_unregister_buf_ring(ring.ring, 0) }
            munmap(br.base, br.bytes)
            r.pool.kernelRing = nil
            buffersRegistered = false
        }
        r.pool.pieceOffset?.deallocate()
        r.pool.pieceOffset = nil
        io_uring_queue_exit(ring.ring)
        ring.ring.deallocate()
    }

    /// Cancels every read and harvests until the last final completion (at most 2 s).
    mutating func cancelAll(_ r: inout ReaderState) {
        if let sqe = nextSQE(&r) {
            io_uring_prep_cancel64(sqe, 0, Int32(IORING_ASYNC_CANCEL_ANY))
            sqe.pointee.user_data = URingBackend.internalTag
        }
        let deadline = readerNow() + 2_000_000_000
        withUnsafeTemporaryAllocation(of: ReaderCompletion.self, capacity: 64) { scratch in
            guard let out = scratch.baseAddress else { return }
            while armedCount > 0 && readerNow() < deadline {
                _ = enter(&r, wait: 1, timeoutNs: 50_000_000, minWaitNs: 0)
                let n = harvest(&r, out, 0, 64)
                for i in 0..<n { _ = r.pool.release(out[i].bufferID) }
                r.pool.publish()
            }
        }
    }
}
