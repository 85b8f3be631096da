import Glibc

extension ReaderCore {
    /// Checks the options; returns them normalised.
    static func validate(_ o: ReaderOptions) throws(Errno) -> ReaderOptions {
        if o.flags.rawValue & ~ReaderFlags.known.rawValue != 0 {
            throw Errno.fail(EINVAL, "unknown reader flags 0x\(String(o.flags.rawValue & ~ReaderFlags.known.rawValue, radix: 16))")
        }
        if o.capacity == 0 || o.capacity > 65536 {
            throw Errno.fail(EINVAL, "capacity \(o.capacity) is outside 1...65536")
        }
        if o.bufferSize < 64 || o.bufferSize > 1 << 20 || o.bufferSize % 64 != 0 {
            throw Errno.fail(EINVAL, "buf_size \(o.bufferSize) must be a multiple of 64 in 64...1048576")
        }
        if o.bufferCount < 2 || o.bufferCount > 32768 || o.bufferCount & (o.bufferCount - 1) != 0 {
            throw Errno.fail(EINVAL, "buf_count \(o.bufferCount) must be a power of two in 2...32768")
        }
        let total = UInt64(o.bufferSize) * UInt64(o.bufferCount)
        if total > 1 << 34 {
            throw Errno.fail(EINVAL, "buf_size * buf_count = \(total) bytes is more than 16 GiB")
        }
        switch o.framing {
        case .fixed:
            if o.frameSize == 0 || o.frameSize > o.bufferSize {
                throw Errno.fail(EINVAL, "fixed framing needs frame_size in 1...buf_size (\(o.bufferSize)), got \(o.frameSize)")
            }
        default:
            if o.frameSize != 0 { throw Errno.fail(EINVAL, "frame_size is only for fixed framing; set it to 0") }
        }
        if o.flags.contains(.sqpoll) && o.sqpollCPU < -1 {
            throw Errno.fail(EINVAL, "sqpoll_cpu \(o.sqpollCPU) is not a CPU")
        }
        if o.flags.contains(.busyPoll) && o.profile != .throughput {
            throw Errno.fail(EINVAL, "ALPHACORE_READER_BUSY_POLL is the spin profile with the poll's timeout as budget: use it with profile 0, or profile SPIN without it")
        }
        if o.profile != .spin && o.spinMicros != 0 {
            throw Errno.fail(EINVAL, "spin_us \(o.spinMicros) is only for ALPHACORE_READER_PROFILE_SPIN; set it to 0")
        }
        if o.spinMicros > ReaderProfile.maxSpinMicros {
            throw Errno.fail(EINVAL, "spin_us \(o.spinMicros) is more than \(ReaderProfile.maxSpinMicros) (1 s)")
        }
        return o
    }

    /// Allocates and initialises a reader with the backend the options and the probe allow.
    static func create(_ options: ReaderOptions) throws(Errno) -> UnsafeMutablePointer<ReaderCore> {
        let o = try validate(options)
        let capacity = Int(o.capacity), count = Int(o.bufferCount), size = Int(o.bufferSize)
        var region: Region?
        var base: UnsafeMutableRawPointer, mapBytes: Int, huge: Bool
        if o.flags.contains(.hugePages) {
            // The memory capability's ladder: 1 GiB -> 2 MiB hugetlb -> THP -> base pages, prefaulted.
            let r = try Region.allocate(size: count * size, options: MemOptions(flags: [.prefault]))
            guard let addr = r.address else { throw Errno.fail(Errno.internal, "the memory capability returned no address") }
            region = r
            base = addr
            mapBytes = r.size
            huge = r.hugeBytes > 0
        } else {
            (base, mapBytes, huge) = try ReaderMemory.map(count * size, what: "reader buffers")
        }
        var state = ReaderState(table: FdTable(capacity: capacity),
                                pool: BufferPool(base: base, mapBytes: mapBytes, size: size, count: count, hugePages: huge),
                                framer: Framer())
        state.profile = o.flags.contains(.busyPoll) ? .spin : o.profile
        let spinUs = o.spinMicros == 0 ? ReaderProfile.defaultSpinMicros : o.spinMicros
        state.spinNs = o.flags.contains(.busyPoll) ? -1 : (o.profile == .spin ? Int64(spinUs) * 1000 : 0)
        var d = describe(o, mapBytes: mapBytes, huge: huge, profile: state.profile, spinUs: spinUs)
        do throws(Errno) {
            state.framer = try Framer(o, capacity: capacity, bufferCount: count, bufferSize: size)
            let io = try chooseBackend(o, &state, &d)
            let details = UnsafeMutablePointer<ReaderDetails>.allocate(capacity: 1)
            details.initialize(to: d)
            let core = UnsafeMutablePointer<ReaderCore>.allocate(capacity: 1)
            core.initialize(to: ReaderCore(state: state, io: io, batch: nil, bufRegion: region, details: details))
            return core
        } catch {
            state.free(region: region)
            throw error
        }
    }

    /// The details of a reader being made (the backend and its reason come later).
    static func describe(_ o: ReaderOptions, mapBytes: Int, huge: Bool, profile: ReaderProfile, spinUs: UInt32) -> ReaderDetails {
        var d = ReaderDetails()
        d.requested = o.backend
        d.capacity = o.capacity
        d.bufferSize = o.bufferSize
        d.bufferCount = o.bufferCount
        d.framing = o.framing
        d.frameSize = o.frameSize
        d.bufferBytes = UInt64(mapBytes)
        d.profile = profile
        d.spinMicros = o.flags.contains(.busyPoll) ? ReaderProfile.spinUntilTimeout : (o.profile == .spin ? spinUs : 0)
        var flags = o.flags
        if !huge { flags.remove(.hugePages) }
        d.flags = flags
        return d
    }

    /// io_uring unless the options ask for epoll or the probe refuses it (then epoll, unless
    /// the options forbid the fallback). Fills the backend and its reason in `d`.
    static func chooseBackend(_ o: ReaderOptions, _ state: inout ReaderState, _ d: inout ReaderDetails) throws(Errno) -> ReaderIO {
        if o.backend == .epoll { return try makeEpoll(&state, &d, reason: "epoll as requested") }
        switch URingBackend.setUp(o, &state, &d) {
        case .success(let b):
            d.backend = .ioURing
            d.reason = o.backend == .auto ? "io_uring: setup, opcode probe and NOP round trip passed" : "io_uring as requested"
            if state.pool.pieceOffset != nil { d.reason += "; buffers consumed incrementally (IOU_PBUF_RING_INC)" }
            if o.flags.contains(.sqpoll) { d.reason += "; SQPOLL thread" + (o.sqpollCPU >= 0 ? " on CPU \(o.sqpollCPU)" : "") }
            if o.backend == .auto { d.reason += ReaderCore.autoReason(state.profile) }
            return .uring(b)
        case .failure(let e):
            if o.backend == .ioURing || o.flags.contains(.noFallback) {
                throw Errno.fail(e.code, "io_uring refused at \(d.uringStage): \(d.reason)")
            }
            return try makeEpoll(&state, &d, reason: "epoll: io_uring refused at \(d.uringStage): \(d.reason)")
        }
    }

    static func makeEpoll(_ state: inout ReaderState, _ d: inout ReaderDetails, reason: String) throws(Errno) -> ReaderIO {
        let backend = try EpollBackend(&state)
        let p = UnsafeMutablePointer<EpollBackend>.allocate(capacity: 1)
        p.initialize(to: backend)
        d.backend = .epoll
        d.flags.remove(.sqpoll)
        d.reason = reason
        return .epoll(p)
    }

    /// Why AUTO keeps io_uring in each profile (BENCHMARKS.md, latency matrix, 2026-12-06).
    static func autoReason(_ p: ReaderProfile) -> String {
        switch p {
        case .throughput: return "; throughput: io_uring (0.004 vs 1.0 syscalls/msg)"
        case .latency: return "; latency: io_uring (p50 22 vs epoll 63 us at 1M/s)"
        case .spin: return "; spin: io_uring (0.03 vs 2.2 syscalls/msg)"
        }
    }
}

extension ReaderState {
    /// Frees what the state owns: the buffers (the memory capability's region, or our own
    /// mapping), the framer's areas and the tables (the backend is torn down first).
    func free(region: Region?) {
        if let region { try? region.free() } else { munmap(pool.base, pool.mapBytes) }
        framer.unmap()
        pool.deallocate()
        table.deallocate()
    }
}
