import CAlphaCoreShims
import CLibURing
import Glibc

/// The backend a reader runs on, chosen once at creation (see ReaderCreate.swift).
enum ReaderIO {
    case uring(UnsafeMutablePointer<URingBackend>)
    case epoll(UnsafeMutablePointer<EpollBackend>)
}

/// The reader behind the handle: one allocation of plain fields (no class, no ARC), so that
/// the completion harvest touches only raw memory. All calls come from one thread.
///
/// The core is thin: the shared state (`ReaderState`: fd table, buffers, framer, counters) and
/// the backend. Each entry point below switches on the backend once and runs code specialised
/// for it (the `ReaderIOBackend` contract); no other code asks which backend it runs on.
public struct ReaderCore {
    var state: ReaderState
    var io: ReaderIO
    /// One-shot batches (alphacore_read_batch; made on first use).
    var batch: UnsafeMutablePointer<ReaderBatchState>?
    /// With ALPHACORE_READER_HUGE_PAGES: the memory capability's region behind the buffers.
    var bufRegion: Region?
    var details: UnsafeMutablePointer<ReaderDetails>

    /// The counters as they stand (the metrics registry reads them).
    var counters: ReaderCounters { state.counters }
    var framing: ReaderFraming { state.framer.framing }

    // MARK: - Fds

    mutating func add(fd: Int32, userData: UInt64) throws(Errno) {
        let idx = try admit(fd, userData: userData)
        do throws(Errno) {
            switch io {
            case .uring(let b): try b.pointee.start(idx, &state)
            case .epoll(let b): try b.pointee.start(idx, &state)
            }
        } catch {
            state.table.freeSlot(idx)
            throw error
        }
        state.table.mapFd(fd, Int32(idx))
        state.table.activeFds += 1
    }

    /// Checks `fd` and fills a free slot for it. Returns the slot.
    mutating func admit(_ fd: Int32, userData: UInt64) throws(Errno) -> Int {
        if fd < 0 { throw Errno.fail(EBADF, "fd \(fd) is negative") }
        var st = stat()
        try SystemCall.check("fd \(fd) is not open") { fstat(fd, &st) }
        let type = st.st_mode & S_IFMT
        if type == S_IFREG || type == S_IFDIR || type == S_IFBLK {
            throw Errno.fail(EINVAL, "fd \(fd) is a regular file, directory or block device; the reader takes sockets, pipes and other pollable streams (read files with alphacore_read_batch)")
        }
        if state.table.slotOf(fd) != nil { throw Errno.fail(EEXIST, "fd \(fd) is already added to this reader") }
        if isInternal(fd) { throw Errno.fail(EINVAL, "fd \(fd) is this reader's own io_uring or epoll fd") }
        guard let idx = state.table.takeSlot() else {
            throw Errno.fail(ENOSPC, "the reader's capacity of \(state.table.capacity) fds is reached (removed fds still draining count until the next poll)")
        }
        // Every field but `gen` (completions of the old fd must stay stale), `armed` (false in
        // a free slot) and `queued` (a stale entry may still sit on epoll's ready queue).
        let s = state.table.slots + idx
        s.pointee.fd = fd
        s.pointee.userData = userData
        s.pointee.state = .active
        s.pointee.partialBytes = 0
        s.pointee.partialSize = 0
        s.pointee.peerHungUp = false
        s.pointee.watched = false
        s.pointee.dataSeenAtCheck = false
        s.pointee.rearmAfterCancel = false
        s.pointee.endPending = false
        s.pointee.hangupSeen = false
        s.pointee.isSocket = type == S_IFSOCK
        s.pointee.isDatagram = false
        if type == S_IFSOCK {
            var sockType: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(fd, SOL_SOCKET, SO_TYPE, &sockType, &len) == 0 {
                s.pointee.isDatagram = sockType == Int32(SOCK_DGRAM.rawValue) || sockType == Int32(SOCK_SEQPACKET.rawValue)
            }
        }
        return idx
    }

    /// The reader's own fds (the ring, the epoll sets, the batch ring): never readable data.
    func isInternal(_ fd: Int32) -> Bool {
        if let b = batch, let r = b.pointee.ring, fd == r.pointee.ring_fd { return true }
        switch io {
        case .uring(let b): return b.pointee.owns(fd)
        case .epoll(let b): return b.pointee.owns(fd)
        }
    }

    mutating func remove(fd: Int32) throws(Errno) {
        guard let idx = state.table.slotOf(fd) else { throw Errno.fail(ENOENT, "fd \(fd) is not added to this reader") }
        switch io {
        case .uring(let b): b.pointee.willRemove(&state)
        case .epoll(let b): b.pointee.willRemove(&state)
        }
        state.table.fdMap?[Int(fd)] = -1
        state.table.activeFds -= 1
        let s = state.table.slots + idx
        if s.pointee.state == .parked { state.table.unpark(idx) }
        s.pointee.gen &+= 1
        s.pointee.partialBytes = 0
        s.pointee.partialSize = 0
        let draining: Bool
        switch io {
        case .uring(let b): draining = b.pointee.remove(idx, gen: s.pointee.gen &- 1, &state)
        case .epoll(let b): draining = b.pointee.remove(idx, gen: s.pointee.gen &- 1, &state)
        }
        if !draining { state.table.freeSlot(idx) }
    }

    // MARK: - Poll and release

    /// Harvests up to `max` completions (see `alphacore_reader_poll`).
    @inline(__always)
    mutating func poll(_ out: UnsafeMutablePointer<ReaderCompletion>, max: Int, minComplete: Int,
                       minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        state.counters.polls &+= 1
        // The latency profile: back as soon as one completion is ready.
        let latency = state.profile == .latency
        let minC = latency ? Swift.min(minComplete, 1) : minComplete
        let minW = latency ? 0 : minWaitNs
        switch io {
        case .uring(let b): return try b.pointee.poll(&state, out, max: max, minComplete: minC, minWaitNs: minW, timeoutNs: timeoutNs)
        case .epoll(let b): return try b.pointee.poll(&state, out, max: max, minComplete: minC, minWaitNs: minW, timeoutNs: timeoutNs)
        }
    }

    /// Gives back the buffers of `completions`. Returns (given back, invalid ids).
    mutating func release(_ completions: UnsafeBufferPointer<ReaderCompletion>) -> (Int, Int) {
        var released = 0, invalid = 0
        for i in 0..<completions.count {
            let b = completions[i].bufferID
            if b == ReaderCompletion.noBuffer { continue }
            if state.pool.release(b) || releaseBatch(b) {
                released &+= 1
            } else {
                invalid &+= 1
            }
        }
        state.pool.publish()
        if state.table.parkedCount > 0 {
            switch io {
            case .uring(let b): if b.pointee.canResume(state) { state.resumeParked(&b.pointee) }
            case .epoll(let b): if b.pointee.canResume(state) { state.resumeParked(&b.pointee) }
            }
        }
        return (released, invalid)
    }

    /// Poll, then copy every completion's bytes into `buf` and give the buffers back.
    mutating func pollCopy(_ out: UnsafeMutablePointer<ReaderCompletion>, max: Int, buf: UnsafeMutableRawPointer, cap: Int,
                           minComplete: Int, minWaitNs: Int64, timeoutNs: Int64) throws(Errno) -> Int {
        let size = state.pool.size
        if cap < size { throw Errno.fail(EINVAL, "buf_cap \(cap) is smaller than one reader buffer (\(size) bytes)") }
        let room = Swift.min(max, cap / size)
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

    /// Checks poll arguments (shared by poll and pollCopy).
    static func checkPoll(max: Int, minComplete: Int, minWaitNs: Int64, timeoutNs: Int64) throws(Errno) {
        if max == 0 { throw Errno.fail(EINVAL, "max is 0: there is no room for a completion") }
        if minComplete > max { throw Errno.fail(EINVAL, "min_complete \(minComplete) is more than max \(max)") }
        if minWaitNs < 0 { throw Errno.fail(EINVAL, "min_wait_ns \(minWaitNs) is negative") }
        if timeoutNs < -1 { throw Errno.fail(EINVAL, "timeout_ns \(timeoutNs) is negative (-1 means no limit)") }
    }

    mutating func snapshot() -> ReaderCounters { state.snapshot() }

    /// Cancels everything, waits for the kernel to let go of the buffers, frees everything.
    static func destroy(_ core: UnsafeMutablePointer<ReaderCore>) {
        let c = core
        c.pointee.teardownBatch()
        switch c.pointee.io {
        case .uring(let b):
            b.pointee.teardown(&c.pointee.state)
            b.deinitialize(count: 1)
            b.deallocate()
        case .epoll(let b):
            b.pointee.teardown(&c.pointee.state)
            b.deinitialize(count: 1)
            b.deallocate()
        }
        c.pointee.state.free(region: c.pointee.bufRegion)
        c.pointee.details.deinitialize(count: 1)
        c.pointee.details.deallocate()
        core.deinitialize(count: 1)
        core.deallocate()
    }
}
