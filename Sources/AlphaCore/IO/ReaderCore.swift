import CAlphaCoreShims
import CLibURing
import Glibc

/// One fd's state in a reader.
struct ReaderSlot {
    static let free: UInt8 = 0, active: UInt8 = 1, parked: UInt8 = 2, done: UInt8 = 3, draining: UInt8 = 4

    var fd: Int32 = -1
    var state: UInt8 = ReaderSlot.free
    var isSocket = false
    /// A datagram (or seqpacket) socket: each read is one datagram; a short read does not mean
    /// drained, and a zero-length datagram is not an end.
    var isDatagram = false
    /// io_uring: the hang-up set reported this fd (EPOLLRDHUP/EPOLLHUP); off the watch list,
    /// a watched fd is a stall suspect (armed again after ENOBUFS).
    var peerHungUp = false
    /// io_uring: a multishot read is in flight (or queued in the SQ).
    var armed = false
    /// epoll: on the ready queue.
    var queued = false
    /// epoll: the peer hung up or the fd failed (EPOLLRDHUP, EPOLLHUP, EPOLLERR were seen):
    /// a short read no longer means drained, read on until 0 or an error.
    var hangup = false
    /// io_uring: on the hang-up watch list.
    var hupWatched = false
    /// io_uring watch: the last check found data waiting (cleared by any data completion);
    /// found again at the next check, the read is stuck and is cancelled and armed again.
    var sawData = false
    /// io_uring: a cancel of a stuck read is in flight: arm again at its final completion.
    var restart = false
    /// io_uring with SQPOLL: the watch found only the end (or an error) waiting and cancelled
    /// the read; the end (`pendingResult`) is handed out once that read's final completion
    /// is harvested, after every byte the kernel thread took (see URingBackend.checkSlot).
    var endPending = false
    var pendingResult: Int32 = 0
    /// Bumped at remove: completions of an older generation are dropped.
    var gen: UInt32 = 0
    var userData: UInt64 = 0
    /// Framing: bytes of an incomplete message kept in this slot's accumulator, and the
    /// message's full size once its length prefix is complete (0 until then).
    var accLen: UInt32 = 0
    var accNeed: UInt32 = 0
}

/// The reader's state: one allocation of plain fields behind the handle (no class, no ARC),
/// so that the completion harvest touches only raw memory. All calls come from one thread.
public struct ReaderCore {
    // Backend.
    var backend: ReaderBackend = .epoll
    var profile: ReaderProfile = .throughput
    /// Spin budget per poll in ns: 0 = no spinning, -1 = the poll's timeout (BUSY_POLL).
    var spinNs: Int64 = 0
    // Buffers: bufCount buffers of bufSize bytes, one mapping. refs[b] counts the caller's
    // completions that point into buffer b; at 0 the buffer goes back to the kernel ring
    // (io_uring) or the free list (epoll).
    var bufBase: UnsafeMutableRawPointer
    var bufMapBytes = 0
    var bufSize = 0
    var bufCount = 0
    var refs: UnsafeMutablePointer<UInt32>
    var held = 0
    var freeList: UnsafeMutablePointer<UInt32>
    var freeCount = 0
    var hugePages = false
    /// With ALPHACORE_READER_HUGE_PAGES: the memory capability's region behind the buffers.
    var bufRegion: Region?
    // Fds.
    var slots: UnsafeMutablePointer<ReaderSlot>
    var capacity = 0
    var freeSlots: UnsafeMutablePointer<Int32>
    var freeSlotCount = 0
    var fdMap: UnsafeMutablePointer<Int32>?
    var fdMapSize = 0
    var activeFds = 0
    var parked: UnsafeMutablePointer<Int32>
    var parkedCount = 0
    // io_uring.
    var ring: UnsafeMutablePointer<io_uring>?
    var bufRing: UnsafeMutableRawPointer?
    var bufRingBytes = 0
    var bufRingMask = 0
    var bufRingTail: UInt16 = 0
    var pendingAdds = 0
    var kernelBufs = 0
    /// Incremental buffer consumption (IOU_PBUF_RING_INC; nil when not in use): per buffer,
    /// where the kernel's next piece starts, and `ReaderCore.inKernel` while the kernel owns it.
    var bufOffset: UnsafeMutablePointer<UInt32>?
    var minTimeout = false
    var sqpoll = false
    var armedCount = 0
    var readMultishot = false
    /// Hang-up watch (see URingBackend.sweepHangups): slots whose peer hung up, until their end
    /// is handed out. Only with DEFER_TASKRUN, where the check cannot race the kernel's recv.
    var hupList: UnsafeMutablePointer<Int32>
    var hupCount = 0
    var watchHangups = false
    var lastSweep: Int64 = 0
    /// An epoll set of every fd, for hang-ups only (EPOLLRDHUP, edge-triggered), itself polled
    /// by a multishot poll on the ring: see URingBackend.sweepHangups.
    var hupEpfd: Int32 = -1
    var hupEvents = false
    var stallCursor = 0
    var sinceCheck = 0
    var registeredRing = false
    // epoll.
    var epfd: Int32 = -1
    var events: UnsafeMutablePointer<epoll_event>
    var eventsCap = 0
    var ready: UnsafeMutablePointer<Int32>
    var readyHead = 0
    var readyCount = 0
    // Framing.
    var framing: ReaderFraming = .none
    var frameSize = 0
    var maxFrame = 0
    var acc: UnsafeMutableRawPointer?
    var accBytes = 0
    var spill: UnsafeMutableRawPointer?
    var spillBytes = 0
    // One-shot batches (lazily made).
    var batch: UnsafeMutablePointer<ReaderBatchState>?
    // Reporting.
    var counters = ReaderCounters()
    var details: UnsafeMutablePointer<ReaderDetails>

    /// Encodes a slot and its generation for the kernel (io_uring user_data, epoll data).
    @inline(__always)
    static func token(_ slot: Int, _ gen: UInt32) -> UInt64 {
        UInt64(truncatingIfNeeded: slot) | (UInt64(gen) &<< 32)
    }

    /// Internal io_uring requests (NOP, cancels) carry this bit in user_data.
    static let internalTag: UInt64 = 1 &<< 63
    /// The multishot poll on the hang-up epoll set.
    static let hupToken: UInt64 = (1 &<< 63) | 2

    @inline(__always)
    func bufferAddress(_ bid: Int) -> UnsafeMutableRawPointer { bufBase + bid &* bufSize }

    /// `bufOffset` bit: the kernel still owns the buffer.
    static let inKernel: UInt32 = 1 &<< 31
}

// MARK: - Memory helpers

enum ReaderMemory {
    /// The base page size (mappings are rounded up to it).
    static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// Anonymous, prefaulted, private 4 KiB-page memory (huge-page buffers come from the memory
    /// capability's `Region.allocate`). Returns the mapping, its length and false (not huge).
    static func map(_ bytes: Int, what: String) throws(Errno) -> (UnsafeMutableRawPointer, Int, Bool) {
        guard let length = RoundUp.multiple(bytes, of: pageSize) else {
            throw Errno.fail(ENOMEM, "\(bytes) bytes for \(what) do not fit a mapping")
        }
        let at = try SystemCall.check("cannot map \(length) bytes for \(what)") {
            Int(bitPattern: mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        }
        let p = UnsafeMutableRawPointer(bitPattern: at).unsafelyUnwrapped   // mmap never maps page 0 here
        // Prefault so that the first reads take no page faults (failure only costs speed).
        _ = madvise(p, length, MADV_POPULATE_WRITE)
        return (p, length, false)
    }

    static func allocate<T>(_ count: Int, _ value: T) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        p.initialize(repeating: value, count: max(count, 1))
        return p
    }
}

extension ReaderCore {
    // MARK: - Creation

    /// Checks the options; returns them normalised.
    static func validate(_ o: ReaderOptions) throws(Errno) -> ReaderOptions {
        let o = o
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
        let details = UnsafeMutablePointer<ReaderDetails>.allocate(capacity: 1)
        details.initialize(to: ReaderDetails())
        let core = UnsafeMutablePointer<ReaderCore>.allocate(capacity: 1)
        core.initialize(to: ReaderCore(
            bufBase: base, refs: ReaderMemory.allocate(count, 0), freeList: ReaderMemory.allocate(count, 0),
            slots: ReaderMemory.allocate(capacity, ReaderSlot()), freeSlots: ReaderMemory.allocate(capacity, 0),
            parked: ReaderMemory.allocate(capacity, 0), hupList: ReaderMemory.allocate(capacity, 0),
            events: ReaderMemory.allocate(min(capacity, 1024), epoll_event()),
            ready: ReaderMemory.allocate(capacity, 0), details: details))
        let c = core
        c.pointee.bufMapBytes = mapBytes
        c.pointee.bufSize = size
        c.pointee.bufCount = count
        c.pointee.hugePages = huge
        c.pointee.bufRegion = region
        c.pointee.capacity = capacity
        c.pointee.eventsCap = min(capacity, 1024)
        for i in 0..<capacity { c.pointee.freeSlots[i] = Int32(capacity - 1 - i) }
        c.pointee.freeSlotCount = capacity
        c.pointee.profile = o.flags.contains(.busyPoll) ? .spin : o.profile
        let spinUs = o.spinMicros == 0 ? ReaderProfile.defaultSpinMicros : o.spinMicros
        c.pointee.spinNs = o.flags.contains(.busyPoll) ? -1 : (o.profile == .spin ? Int64(spinUs) * 1000 : 0)
        c.pointee.framing = o.framing
        c.pointee.frameSize = Int(o.frameSize)
        do throws(Errno) {
            if o.framing != .none {
                c.pointee.maxFrame = o.framing == .fixed ? Int(o.frameSize) : size
                let (a, ab, _) = try ReaderMemory.map(capacity * c.pointee.maxFrame, what: "framing accumulators")
                c.pointee.acc = a
                c.pointee.accBytes = ab
                let (s, sb, _) = try ReaderMemory.map(count * c.pointee.maxFrame, what: "reassembled messages")
                c.pointee.spill = s
                c.pointee.spillBytes = sb
            }
            var d = ReaderDetails()
            d.requested = o.backend
            d.capacity = o.capacity
            d.bufferSize = o.bufferSize
            d.bufferCount = o.bufferCount
            d.framing = o.framing
            d.frameSize = o.frameSize
            d.bufferBytes = UInt64(mapBytes)
            d.profile = c.pointee.profile
            d.spinMicros = o.flags.contains(.busyPoll) ? ReaderProfile.spinUntilTimeout : (o.profile == .spin ? spinUs : 0)
            var flags = o.flags
            if !huge { flags.remove(.hugePages) }
            d.flags = flags
            if o.backend != .epoll {
                switch c.pointee.setupURing(o, &d) {
                case .success:
                    d.backend = .ioURing
                    d.reason = o.backend == .auto ? "io_uring: setup, opcode probe and NOP round trip passed" : "io_uring as requested"
                    if c.pointee.bufOffset != nil { d.reason += "; buffers consumed incrementally (IOU_PBUF_RING_INC)" }
                    if o.flags.contains(.sqpoll) { d.reason += "; SQPOLL thread" + (o.sqpollCPU >= 0 ? " on CPU \(o.sqpollCPU)" : "") }
                    if o.backend == .auto { d.reason += ReaderCore.autoReason(c.pointee.profile) }
                case .failure(let e):
                    if o.backend == .ioURing || o.flags.contains(.noFallback) {
                        throw Errno.fail(e.code, "io_uring refused at \(d.uringStage): \(d.reason)")
                    }
                    try c.pointee.setupEpoll()
                    d.backend = .epoll
                    d.flags.remove(.sqpoll)
                    d.reason = "epoll: io_uring refused at \(d.uringStage): \(d.reason)"
                }
            } else {
                try c.pointee.setupEpoll()
                d.backend = .epoll
                d.flags.remove(.sqpoll)
                d.reason = "epoll as requested"
            }
            c.pointee.details.pointee = d
            return core
        } catch {
            destroy(core)
            throw error
        }
    }

    /// Why AUTO keeps io_uring in each profile (BENCHMARKS.md, latency matrix, 2026-12-06).
    static func autoReason(_ p: ReaderProfile) -> String {
        switch p {
        case .throughput: return "; throughput: io_uring (0.004 vs 1.0 syscalls/msg)"
        case .latency: return "; latency: io_uring (p50 22 vs epoll 63 us at 1M/s)"
        case .spin: return "; spin: io_uring (0.03 vs 2.2 syscalls/msg)"
        }
    }

    /// Cancels everything, waits for the kernel to let go of the buffers, frees everything.
    static func destroy(_ core: UnsafeMutablePointer<ReaderCore>) {
        let c = core
        c.pointee.teardownBatch()
        if c.pointee.ring != nil { c.pointee.teardownURing() }
        if c.pointee.epfd >= 0 { close(c.pointee.epfd) }
        if let region = c.pointee.bufRegion { try? region.free() } else { munmap(c.pointee.bufBase, c.pointee.bufMapBytes) }
        if let a = c.pointee.acc { munmap(a, c.pointee.accBytes) }
        if let s = c.pointee.spill { munmap(s, c.pointee.spillBytes) }
        c.pointee.refs.deallocate()
        c.pointee.freeList.deallocate()
        c.pointee.slots.deallocate()
        c.pointee.freeSlots.deallocate()
        c.pointee.parked.deallocate()
        c.pointee.events.deallocate()
        c.pointee.ready.deallocate()
        c.pointee.hupList.deallocate()
        c.pointee.fdMap?.deallocate()
        c.pointee.bufOffset?.deallocate()
        c.pointee.details.deinitialize(count: 1)
        c.pointee.details.deallocate()
        core.deinitialize(count: 1)
        core.deallocate()
    }

    // MARK: - Fds

    /// The slot of an added fd, or nil.
    func slotOf(_ fd: Int32) -> Int? {
        guard fd >= 0, Int(fd) < fdMapSize, let map = fdMap else { return nil }
        let s = map[Int(fd)]
        return s >= 0 ? Int(s) : nil
    }

    mutating func mapFd(_ fd: Int32, _ slot: Int32) {
        let i = Int(fd)
        if i >= fdMapSize {
            let newSize = max(i + 1, fdMapSize * 2, 1024)
            let m = ReaderMemory.allocate(newSize, Int32(-1))
            if let old = fdMap {
                m.update(from: old, count: fdMapSize)
                old.deallocate()
            }
            fdMap = m
            fdMapSize = newSize
        }
        fdMap![i] = slot
    }

    mutating func add(fd: Int32, userData: UInt64) throws(Errno) {
        if fd < 0 { throw Errno.fail(EBADF, "fd \(fd) is negative") }
        var st = stat()
        try SystemCall.check("fd \(fd) is not open") { fstat(fd, &st) }
        let type = st.st_mode & S_IFMT
        if type == S_IFREG || type == S_IFDIR || type == S_IFBLK {
            throw Errno.fail(EINVAL, "fd \(fd) is a regular file, directory or block device; the reader takes sockets, pipes and other pollable streams (read files with alphacore_read_batch)")
        }
        if slotOf(fd) != nil { throw Errno.fail(EEXIST, "fd \(fd) is already added to this reader") }
        if isInternal(fd) { throw Errno.fail(EINVAL, "fd \(fd) is this reader's own io_uring or epoll fd") }
        if freeSlotCount == 0 {
            throw Errno.fail(ENOSPC, "the reader's capacity of \(capacity) fds is reached (removed fds still draining count until the next poll)")
        }
        freeSlotCount -= 1
        let idx = Int(freeSlots[freeSlotCount])
        let s = slots + idx
        s.pointee.fd = fd
        s.pointee.isSocket = type == S_IFSOCK
        s.pointee.isDatagram = false
        if type == S_IFSOCK {
            var sockType: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(fd, SOL_SOCKET, SO_TYPE, &sockType, &len) == 0 {
                s.pointee.isDatagram = sockType == Int32(SOCK_DGRAM.rawValue) || sockType == Int32(SOCK_SEQPACKET.rawValue)
            }
        }
        s.pointee.peerHungUp = false
        s.pointee.userData = userData
        s.pointee.accLen = 0
        s.pointee.accNeed = 0
        s.pointee.state = ReaderSlot.active
        s.pointee.hangup = false
        s.pointee.hupWatched = false
        s.pointee.sawData = false
        s.pointee.restart = false
        s.pointee.endPending = false
        do throws(Errno) {
            if backend == .ioURing {
                try armFirst(idx)
            } else {
                try epollAdd(idx)
            }
        } catch {
            s.pointee.state = ReaderSlot.free
            s.pointee.fd = -1
            freeSlots[freeSlotCount] = Int32(idx)
            freeSlotCount += 1
            throw error
        }
        mapFd(fd, Int32(idx))
        activeFds += 1
    }

    /// The reader's own fds (the ring, the epoll sets, the batch ring): never readable data.
    func isInternal(_ fd: Int32) -> Bool {
        if fd == epfd || fd == hupEpfd { return true }
        if let r = ring, fd == r.pointee.ring_fd { return true }
        if let b = batch, let r = b.pointee.ring, fd == r.pointee.ring_fd { return true }
        return false
    }

    mutating func remove(fd: Int32) throws(Errno) {
        guard let idx = slotOf(fd) else { throw Errno.fail(ENOENT, "fd \(fd) is not added to this reader") }
        // The kernel looks a queued read's fd number up when it takes the SQE: it must take it
        // before the caller can close the fd and a new file can get the same number.
        if backend == .ioURing { flushSubmissions() }
        fdMap![Int(fd)] = -1
        activeFds -= 1
        let s = slots + idx
        if s.pointee.state == ReaderSlot.parked { unpark(idx) }
        if s.pointee.hupWatched { unwatch(idx) }   // the slot may be reused before the next sweep
        s.pointee.gen &+= 1
        s.pointee.accLen = 0
        s.pointee.accNeed = 0
        if hupEpfd >= 0 {
            var ev = epoll_event()
            _ = epoll_ctl(hupEpfd, EPOLL_CTL_DEL, fd, &ev)
        }
        if backend == .ioURing && s.pointee.armed {
            // The final completion of the cancelled read frees the slot.
            s.pointee.state = ReaderSlot.draining
            cancel(idx, gen: s.pointee.gen &- 1)
        } else {
            if backend == .epoll { epollRemove(idx) }
            freeSlot(idx)
        }
    }

    mutating func freeSlot(_ idx: Int) {
        let s = slots + idx
        s.pointee.state = ReaderSlot.free
        s.pointee.fd = -1
        s.pointee.armed = false
        freeSlots[freeSlotCount] = Int32(idx)
        freeSlotCount += 1
    }

    mutating func park(_ idx: Int) {
        slots[idx].state = ReaderSlot.parked
        parked[parkedCount] = Int32(idx)
        parkedCount += 1
    }

    mutating func unpark(_ idx: Int) {
        for i in 0..<parkedCount where parked[i] == Int32(idx) {
            parked[i] = parked[parkedCount - 1]
            parkedCount -= 1
            break
        }
    }

    // MARK: - Buffers

    /// Gives a buffer back to the kernel ring (io_uring; published by `publishBuffers`) or
    /// the free list (epoll).
    @inline(__always)
    mutating func recycle(_ bid: Int) {
        if let br = bufRing {
            if let bo = bufOffset { bo[bid] = ReaderCore.inKernel }
            let e = br + Int((bufRingTail &+ UInt16(truncatingIfNeeded: pendingAdds)) & UInt16(truncatingIfNeeded: bufRingMask)) &* 16
            e.storeBytes(of: UInt64(UInt(bitPattern: bufferAddress(bid))), toByteOffset: 0, as: UInt64.self)
            e.storeBytes(of: UInt32(truncatingIfNeeded: bufSize), toByteOffset: 8, as: UInt32.self)
            e.storeBytes(of: UInt16(truncatingIfNeeded: bid), toByteOffset: 12, as: UInt16.self)
            pendingAdds &+= 1
        } else {
            freeList[freeCount] = UInt32(truncatingIfNeeded: bid)
            freeCount &+= 1
        }
    }

    /// Incremental buffers: whether the kernel may still put data into buffer `bid`.
    @inline(__always)
    func kernelOwns(_ bid: Int) -> Bool {
        guard let bo = bufOffset else { return false }
        return bo[bid] & ReaderCore.inKernel != 0
    }

    /// A buffer piece nobody will see (a removed fd, a read without data): the buffer goes
    /// back once the kernel is done with it and the caller holds no piece of it.
    @inline(__always)
    mutating func dropBuffer(_ bid: Int) {
        if refs[bid] == 0 && !kernelOwns(bid) { recycle(bid) }
    }

    /// Makes recycled buffers visible to the kernel with one release store of the ring tail.
    @inline(__always)
    mutating func publishBuffers() {
        guard pendingAdds > 0, let br = bufRing else { return }
        bufRingTail &+= UInt16(truncatingIfNeeded: pendingAdds)
        // The tail sits in the first entry's last 2 bytes (struct io_uring_buf_ring).
        acshim_store_release_u16((br + 14).assumingMemoryBound(to: UInt16.self), bufRingTail)
        kernelBufs &+= pendingAdds
        pendingAdds = 0
    }

    /// Gives back the buffers of `completions`. Returns (given back, invalid ids).
    mutating func release(_ completions: UnsafeBufferPointer<ReaderCompletion>) -> (Int, Int) {
        var released = 0, invalid = 0
        for i in 0..<completions.count {
            let b = completions[i].bufferID
            if b == ReaderCompletion.noBuffer { continue }
            let bid = Int(b)
            if bid < bufCount && refs[bid] > 0 {
                refs[bid] &-= 1
                if refs[bid] == 0 {
                    held &-= 1
                    if !kernelOwns(bid) { recycle(bid) }
                }
                released &+= 1
            } else if releaseBatch(b) {
                released &+= 1
            } else {
                invalid &+= 1
            }
        }
        publishBuffers()
        if parkedCount > 0 && (backend == .epoll || kernelBufs > 0) { resumeParked() }
        return (released, invalid)
    }

    mutating func resumeParked() {
        while parkedCount > 0 {
            parkedCount -= 1
            let idx = Int(parked[parkedCount])
            slots[idx].state = ReaderSlot.active
            counters.rearms &+= 1
            if backend == .ioURing {
                arm(idx, pollFirst: false)
                watch(idx)   // a read armed again after ENOBUFS can stall: a suspect for the watch
            } else {
                enqueueReady(idx)
            }
        }
    }

    // MARK: - Delivery (both backends)

    /// Hands out `len` bytes that arrived in buffer `bid` for slot `idx`: one completion
    /// pointing into the buffer, or with framing whole messages only. `out` has room for 3.
    @inline(__always)
    mutating func deliver(_ idx: Int, _ bid: Int, _ off: Int, _ len: Int, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        if framing != .none {
            deliverFramed(idx, bid, len, out, &n)   // framing never uses incremental buffers: off == 0
            return
        }
        let s = slots + idx
        (out + n).initialize(to: ReaderCompletion(userData: s.pointee.userData, data: UnsafeRawPointer(bufferAddress(bid) + off),
                                                  result: Int32(truncatingIfNeeded: len), bufferID: UInt32(truncatingIfNeeded: bid),
                                                  fd: s.pointee.fd, flags: 0))
        n &+= 1
        if refs[bid] == 0 { held &+= 1 }
        refs[bid] &+= 1
        counters.completions &+= 1
        counters.bytes &+= UInt64(truncatingIfNeeded: len)
    }

    /// Hands out the end of a stream (0) or an error (-errno) for slot `idx`.
    mutating func deliverEnd(_ idx: Int, _ result: Int32, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        let s = slots + idx
        var res = result
        if res == 0 && s.pointee.accLen > 0 {
            res = -EPROTO
            ReaderCore.noteEndInsideMessage(s.pointee.fd, s.pointee.accLen)
        }
        s.pointee.accLen = 0
        s.pointee.accNeed = 0
        (out + n).initialize(to: ReaderCompletion(userData: s.pointee.userData, data: nil, result: res,
                                                  bufferID: ReaderCompletion.noBuffer, fd: s.pointee.fd, flags: ReaderCompletion.last))
        n &+= 1
        s.pointee.state = ReaderSlot.done
        counters.completions &+= 1
        if res == 0 { counters.eofs &+= 1 } else { counters.errors &+= 1 }
    }

    @inline(never)
    static func noteEndInsideMessage(_ fd: Int32, _ have: UInt32) {
        Detail.set("fd \(fd) ended inside a message (\(have) bytes of it arrived)")
    }

    /// The error of a poll that finds every buffer held (kept out of line: no string work in
    /// the poll's body).
    @inline(never)
    static func noBuffers(_ waiting: Int) -> Errno {
        Errno.fail(ENOBUFS, "every buffer is held by the caller and \(waiting) fds wait for one: release completions")
    }

    /// The size of the message starting at `p` whose prefix is complete.
    @inline(__always)
    func frameLength(_ p: UnsafeRawPointer) -> Int {
        switch framing {
        case .fixed: return frameSize
        case .u16le: return 2 &+ Int(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
        case .u16be: return 2 &+ Int(UInt16(bigEndian: p.loadUnaligned(as: UInt16.self)))
        case .u32le: return 4 &+ Int(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
        case .u32be: return 4 &+ Int(UInt32(bigEndian: p.loadUnaligned(as: UInt32.self)))
        case .none: return 0
        }
    }

    mutating func deliverFramed(_ idx: Int, _ bid: Int, _ len: Int, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        let s = slots + idx
        let data = UnsafeRawPointer(bufferAddress(bid))
        let prefix = framing == .fixed ? frameSize : framing.prefixBytes
        var p = 0
        let before = refs[bid]
        // 1. Finish the message this fd's last read left incomplete.
        if s.pointee.accLen > 0, let accBase = acc {
            let a = accBase + idx &* maxFrame
            var have = Int(s.pointee.accLen)
            if s.pointee.accNeed == 0 {
                let take = min(prefix - have, len)
                (a + have).copyMemory(from: data, byteCount: take)
                have += take
                p = take
                if have == prefix {
                    let need = frameLength(UnsafeRawPointer(a))
                    if need > maxFrame { return frameTooLarge(idx, bid, need, before, out, &n) }
                    s.pointee.accNeed = UInt32(need)
                }
            }
            if s.pointee.accNeed > 0 {
                let need = Int(s.pointee.accNeed)
                let take = min(need - have, len - p)
                (a + have).copyMemory(from: data + p, byteCount: take)
                have += take
                p += take
                if have == need, let spillBase = spill {
                    let m = spillBase + bid &* maxFrame
                    m.copyMemory(from: UnsafeRawPointer(a), byteCount: need)
                    (out + n).initialize(to: ReaderCompletion(userData: s.pointee.userData, data: UnsafeRawPointer(m),
                                                              result: Int32(need), bufferID: UInt32(bid), fd: s.pointee.fd,
                                                              flags: ReaderCompletion.reassembled))
                    n &+= 1
                    refs[bid] &+= 1
                    counters.completions &+= 1
                    counters.bytes &+= UInt64(need)
                    counters.messages &+= 1
                    counters.reassembled &+= 1
                    have = 0
                    s.pointee.accNeed = 0
                }
            }
            s.pointee.accLen = UInt32(have)
        }
        // 2. The whole messages that follow, as one completion.
        let start = p
        var messages: UInt64 = 0
        while len - p >= prefix {
            let m = frameLength(data + p)
            if m > maxFrame {
                if p > start { emitRun(idx, bid, start, p, messages, out, &n) }
                return frameTooLarge(idx, bid, m, before, out, &n)
            }
            if len - p < m { break }
            p &+= m
            messages &+= 1
        }
        if p > start { emitRun(idx, bid, start, p, messages, out, &n) }
        // 3. Keep an incomplete tail for the next read.
        if p < len, let accBase = acc {
            let a = accBase + idx &* maxFrame
            a.copyMemory(from: data + p, byteCount: len - p)
            s.pointee.accLen = UInt32(len - p)
            s.pointee.accNeed = len - p >= prefix ? UInt32(frameLength(UnsafeRawPointer(a))) : 0
            if Int(s.pointee.accNeed) > maxFrame {
                return frameTooLarge(idx, bid, Int(s.pointee.accNeed), before, out, &n)
            }
        }
        if refs[bid] == 0 { recycle(bid) } else if before == 0 { held &+= 1 }
    }

    mutating func emitRun(_ idx: Int, _ bid: Int, _ from: Int, _ to: Int, _ messages: UInt64,
                          _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        let s = slots + idx
        (out + n).initialize(to: ReaderCompletion(userData: s.pointee.userData, data: UnsafeRawPointer(bufferAddress(bid) + from),
                                                  result: Int32(to - from), bufferID: UInt32(bid), fd: s.pointee.fd, flags: 0))
        n &+= 1
        refs[bid] &+= 1
        counters.completions &+= 1
        counters.bytes &+= UInt64(to - from)
        counters.messages &+= messages
    }

    /// A length prefix larger than a buffer: the fd ends with -EMSGSIZE.
    mutating func frameTooLarge(_ idx: Int, _ bid: Int, _ size: Int, _ before: UInt32,
                                _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        Detail.set("fd \(slots[idx].fd) sent a message of \(size) bytes; the largest that fits is \(maxFrame)")
        slots[idx].accLen = 0
        deliverEnd(idx, -EMSGSIZE, out, &n)
        stopReading(idx)
        if refs[bid] == 0 { recycle(bid) } else if before == 0 { held &+= 1 }
    }

    /// Ends reads on an fd that stays added (after a framing error).
    mutating func stopReading(_ idx: Int) {
        if backend == .ioURing {
            if slots[idx].armed { cancel(idx, gen: slots[idx].gen) }
        } else {
            epollRemove(idx)
        }
    }

    // MARK: - Poll

    /// Checks poll arguments (shared by poll and pollCopy).
    static func checkPoll(max: Int, minComplete: Int, minWaitNs: Int64, timeoutNs: Int64) throws(Errno) {
        if max == 0 { throw Errno.fail(EINVAL, "max is 0: there is no room for a completion") }
        if minComplete > max { throw Errno.fail(EINVAL, "min_complete \(minComplete) is more than max \(max)") }
        if minWaitNs < 0 { throw Errno.fail(EINVAL, "min_wait_ns \(minWaitNs) is negative") }
        if timeoutNs < -1 { throw Errno.fail(EINVAL, "timeout_ns \(timeoutNs) is negative (-1 means no limit)") }
    }

    /// Harvests up to `max` completions (see `alphacore_reader_poll`).
    @inline(__always)
    mutating func poll(_ out: UnsafeMutablePointer<ReaderCompletion>, max: Int, minComplete: Int,
                       minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        counters.polls &+= 1
        // The latency profile: back as soon as one completion is ready.
        let latency = profile == .latency
        let minC = latency ? Swift.min(minComplete, 1) : minComplete
        let minW = latency ? 0 : minWaitNs
        if backend == .ioURing {
            return try pollURing(out, max: max, minComplete: minC, minWaitNs: minW, timeoutNs: timeoutNs)
        }
        return try pollEpoll(out, max: max, minComplete: minC, minWaitNs: minW, timeoutNs: timeoutNs)
    }

    /// Poll, then copy every completion's bytes into `buf` and give the buffers back.
    mutating func pollCopy(_ out: UnsafeMutablePointer<ReaderCompletion>, max: Int, buf: UnsafeMutableRawPointer, cap: Int,
                           minComplete: Int, minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        if cap < bufSize { throw Errno.fail(EINVAL, "buf_cap \(cap) is smaller than one reader buffer (\(bufSize) bytes)") }
        let room = Swift.min(max, cap / bufSize)
        let n = try poll(out, max: room, minComplete: Swift.min(minComplete, room), minWaitNs: minWaitNs, timeoutNs: timeoutNs)
        var at = 0
        for i in 0..<n {
            let len = Int(out[i].result)
            if len > 0, let d = out[i].data {
                (buf + at).copyMemory(from: d, byteCount: len)
                out[i].data = UnsafeRawPointer(buf + at)
                at += len
            }
        }
        _ = release(UnsafeBufferPointer(start: out, count: n))
        for i in 0..<n { out[i].bufferID = ReaderCompletion.noBuffer }
        return n
    }

    mutating func snapshot() -> ReaderCounters {
        var c = counters
        c.fds = UInt32(truncatingIfNeeded: activeFds)
        c.buffersHeld = UInt64(held)
        return c
    }
}

/// The clock for deadlines.
@inline(__always)
func readerNow() -> Int64 { Int64(bitPattern: Clock.nowNanoseconds()) }
