import CAlphaCoreShims
import CLibURing
import Glibc

/// One-shot batches (alphacore_read_batch): a pool of buf_count buffers of their own and, on
/// io_uring, a small ring of their own (both made on first use), so that a batch never mixes
/// with the streaming completions of the main ring.
struct ReaderBatchState {
    var base: UnsafeMutableRawPointer
    var mapBytes: Int
    var held: UnsafeMutablePointer<UInt8>
    var free: UnsafeMutablePointer<UInt32>
    var freeCount: Int
    var ring: UnsafeMutablePointer<io_uring>?
}

extension ReaderCore {
    mutating func teardownBatch() {
        guard let b = batch else { return }
        if let r = b.pointee.ring {
            io_uring_queue_exit(r)
            r.deallocate()
        }
        munmap(b.pointee.base, b.pointee.mapBytes)
        b.pointee.held.deallocate()
        b.pointee.free.deallocate()
        b.deinitialize(count: 1)
        b.deallocate()
        batch = nil
    }

    /// Gives back a batch buffer id (buffer count + i); false if the caller does not hold it.
    mutating func releaseBatch(_ id: UInt32) -> Bool {
        guard let b = batch else { return false }
        let bufCount = state.pool.count
        let i = Int(id) &- bufCount
        if i < 0 || i >= bufCount || b.pointee.held[i] == 0 { return false }
        b.pointee.held[i] = 0
        b.pointee.free[b.pointee.freeCount] = UInt32(truncatingIfNeeded: i)
        b.pointee.freeCount &+= 1
        return true
    }

    mutating func makeBatch() throws(Errno) -> UnsafeMutablePointer<ReaderBatchState> {
        if let b = batch { return b }
        let bufCount = state.pool.count, bufSize = state.pool.size
        let (base, bytes, _) = try ReaderMemory.map(bufCount * bufSize, what: "batch buffers")
        let free = ReaderMemory.allocate(bufCount, UInt32(0))
        for i in 0..<bufCount { free[i] = UInt32(bufCount - 1 - i) }
        var ringPtr: UnsafeMutablePointer<io_uring>?
        if case .uring = io {   // the batch gets a ring of its own where the reader runs on io_uring
            let r = UnsafeMutablePointer<io_uring>.allocate(capacity: 1)
            r.initialize(to: io_uring())
            var p = io_uring_params()
            p.flags = UInt32(IORING_SETUP_SINGLE_ISSUER) | UInt32(IORING_SETUP_DEFER_TASKRUN) | UInt32(IORING_SETUP_SUBMIT_ALL)
            if io_uring_queue_init_params(UInt32(Swift.min(RoundUp.powerOfTwo(bufCount) ?? 4096, 4096)), r, &p) < 0 {
                r.deallocate()   // the batch then runs on plain system calls
            } else {
                ringPtr = r
            }
        }
        let b = UnsafeMutablePointer<ReaderBatchState>.allocate(capacity: 1)
        b.initialize(to: ReaderBatchState(base: base, mapBytes: bytes, held: ReaderMemory.allocate(bufCount, UInt8(0)),
                                          free: free, freeCount: bufCount, ring: ringPtr))
        batch = b
        return b
    }

    /// Reads each fd once into a batch buffer; out[i] gets fds[i]'s result. Returns n.
    mutating func readBatch(fds: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<UInt64>?,
                            out: UnsafeMutableBufferPointer<ReaderCompletion>, timeoutNs: Int64) throws(Errno) -> Int {
        let n = fds.count, bufCount = state.pool.count, bufSize = state.pool.size
        if n == 0 { return 0 }
        if timeoutNs < -1 { throw Errno.fail(EINVAL, "timeout_ns \(timeoutNs) is negative (-1 means no limit)") }
        if n > bufCount { throw Errno.fail(EINVAL, "n = \(n) is more than buf_count (\(bufCount)) batch buffers") }
        guard let o = out.baseAddress, let f = fds.baseAddress else { throw Errno.fail(EINVAL, "NULL arrays") }
        let b = try makeBatch()
        if b.pointee.freeCount < n {
            throw Errno.fail(ENOBUFS, "\(n) batch buffers wanted, \(b.pointee.freeCount) free: release earlier batches")
        }
        for i in 0..<n {
            b.pointee.freeCount -= 1
            let slot = Int(b.pointee.free[b.pointee.freeCount])
            b.pointee.held[slot] = 1
            (o + i).initialize(to: ReaderCompletion(userData: UInt64(i), data: UnsafeRawPointer(b.pointee.base + slot * bufSize),
                                                    result: -ETIMEDOUT, bufferID: UInt32(bufCount + slot), fd: f[i], flags: 0))
        }
        if let r = b.pointee.ring {
            batchURing(r, f, offsets?.baseAddress, n, o, timeoutNs)
        } else {
            batchPlain(f, offsets?.baseAddress, n, o, timeoutNs)
        }
        // Results without bytes give their buffer back at once.
        for i in 0..<n where o[i].result <= 0 {
            _ = releaseBatch(o[i].bufferID)
            o[i].bufferID = ReaderCompletion.noBuffer
            o[i].data = nil
        }
        return n
    }

    /// io_uring: one submission of n reads, one wait for all (bounded by the timeout); what is
    /// left is cancelled and waited for, so that no read can write a buffer after we return.
    mutating func batchURing(_ r: UnsafeMutablePointer<io_uring>, _ fds: UnsafePointer<Int32>, _ offsets: UnsafePointer<UInt64>?,
                             _ n: Int, _ out: UnsafeMutablePointer<ReaderCompletion>, _ timeoutNs: Int64) {
        var queued = 0, done = 0
        let start = readerNow()
        let ring = RingView(ring: r)
        func submitAndWait(_ wait: Int, _ t: Int64) {
            _ = RingView.enter(ring.fd, toSubmit: ring.flushSQ(), wait: UInt32(wait), flags: UInt32(IORING_ENTER_GETEVENTS), waitNs: t)
            state.counters.syscalls &+= 1
            ring.forEachCQE { cqe in
                let i = Int(truncatingIfNeeded: cqe.pointee.user_data)
                if i < n {
                    let res = cqe.pointee.res
                    out[i].result = res == -ECANCELED ? -ETIMEDOUT : res
                    done &+= 1
                }
            }
        }
        while queued < n {
            guard let sqe = io_uring_get_sqe(r) else {
                submitAndWait(0, 0)
                continue
            }
            let off = offsets.map { $0[queued] } ?? UInt64.max
            io_uring_prep_read(sqe, fds[queued], UnsafeMutableRawPointer(mutating: out[queued].data), UInt32(state.pool.size), off)
            sqe.pointee.user_data = UInt64(queued)
            queued &+= 1
        }
        while done < n {
            let elapsed = readerNow() &- start
            if timeoutNs >= 0 && elapsed >= timeoutNs { break }
            submitAndWait(n &- done, timeoutNs < 0 ? -1 : timeoutNs &- elapsed)
        }
        if done < n {
            if let sqe = io_uring_get_sqe(r) {
                io_uring_prep_cancel64(sqe, 0, Int32(IORING_ASYNC_CANCEL_ANY))
                sqe.pointee.user_data = UInt64.max
            }
            // Cancelled reads end at once; the loop is bounded anyway.
            let deadline = readerNow() &+ 5_000_000_000
            while done < n && readerNow() < deadline { submitAndWait(n &- done, 100_000_000) }
        }
    }

    /// Without io_uring: pread for files (at the offset given), and poll() then read for the
    /// rest, within the timeout.
    mutating func batchPlain(_ fds: UnsafePointer<Int32>, _ offsets: UnsafePointer<UInt64>?, _ n: Int,
                             _ out: UnsafeMutablePointer<ReaderCompletion>, _ timeoutNs: Int64) {
        let start = readerNow(), bufSize = state.pool.size
        for i in 0..<n {
            let fd = fds[i]
            let buf = UnsafeMutableRawPointer(mutating: out[i].data)
            let off = offsets.map { $0[i] } ?? UInt64.max
            var got: Result<Int, Errno>
            if off != UInt64.max {
                got = SystemCall.valueOrErrno { pread(fd, buf, bufSize, off_t(Int64(bitPattern: off))) }
            } else {
                var pfd = pollfd()
                pfd.fd = fd
                pfd.events = Int16(POLLIN)
                let left = timeoutNs < 0 ? -1 : Swift.max(timeoutNs &- (readerNow() &- start), 0)
                let ms = left < 0 ? Int32(-1) : Int32(truncatingIfNeeded: Swift.min((left + 999_999) / 1_000_000, Int64(Int32.max)))
                let pr = SystemCall.valueOrErrnoOnce { Glibc.poll(&pfd, 1, ms) }   // EINTR: that fd's result
                state.counters.syscalls &+= 1
                if case .failure(let e) = pr { out[i].result = 0 - e.code; continue }
                if case .success(0) = pr { out[i].result = -ETIMEDOUT; continue }
                if pfd.revents & Int16(POLLNVAL) != 0 { out[i].result = -EBADF; continue }
                got = SystemCall.valueOrErrno { read(fd, buf, bufSize) }   // poll said readable: this does not block
            }
            state.counters.syscalls &+= 1
            switch got {
            case .success(let v): out[i].result = Int32(truncatingIfNeeded: v)
            case .failure(let e): out[i].result = 0 - e.code
            }
        }
    }
}
