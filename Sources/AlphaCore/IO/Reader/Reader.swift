import Glibc

/// A batched reader of many stream fds (sockets, pipes): io_uring multishot reads into buffers
/// the reader owns, or edge-triggered epoll where io_uring is refused. The same calls on both.
///
/// ```swift
/// var opts = ReaderOptions()
/// let reader = try Reader(opts)
/// defer { reader.destroy() }
/// try reader.add(fd: sock, userData: 7)
/// var out = [ReaderCompletion](repeating: .init(...), count: 256)   // or any buffer
/// let n = try out.withUnsafeMutableBufferPointer { try reader.poll(into: $0, minComplete: 1, timeoutNs: 1_000_000) }
/// // ... use out[i].bytes (valid until released) ...
/// try out.withUnsafeBufferPointer { try reader.release($0.prefix(n)) }
/// ```
///
/// A reader belongs to one thread: every call on it must come from the thread that created it
/// (the io_uring ring is SINGLE_ISSUER | DEFER_TASKRUN). It is a handle (a pointer to state the
/// library allocated): copies refer to the same reader; `destroy()` once.
public struct Reader: @unchecked Sendable {
    public let core: UnsafeMutablePointer<ReaderCore>

    /// Creates a reader; see `ReaderOptions` and `details` for what it runs on.
    public init(_ options: ReaderOptions = ReaderOptions()) throws(Errno) {
        core = try ReaderCore.create(options)
    }

    /// Wraps a pointer from `core` (the C handle).
    public init(core: UnsafeMutablePointer<ReaderCore>) { self.core = core }

    /// Cancels every read, waits for the kernel to let go of the buffers, frees the reader.
    public func destroy() { ReaderCore.destroy(core) }

    /// The backend in use, and for `.auto` why.
    public var details: ReaderDetails { core.pointee.details.pointee }

    /// The counters.
    public var counters: ReaderCounters { core.pointee.snapshot() }

    /// Starts reading `fd`; its completions carry `userData`.
    /// Throws EBADF, EEXIST, EINVAL (regular file, directory, block device), ENOSPC, EOPNOTSUPP.
    public func add(fd: Int32, userData: UInt64) throws(Errno) { try core.pointee.add(fd: fd, userData: userData) }

    /// Stops reading `fd` (data not yet handed out is dropped). Throws ENOENT.
    public func remove(fd: Int32) throws(Errno) { try core.pointee.remove(fd: fd) }

    /// Harvests up to `out.count` completions: returns once `minComplete` are ready, or
    /// `minWaitNs` has passed with at least one, or `timeoutNs` (-1 = no limit) has passed (0).
    @inline(__always)
    public func poll(into out: UnsafeMutableBufferPointer<ReaderCompletion>, minComplete: Int = 1,
                     minWaitNs: Int64 = 0, timeoutNs: Int64 = -1) throws(Errno) -> Int {
        guard let base = out.baseAddress else { throw Errno.fail(EINVAL, "the completion array is empty") }
        try ReaderCore.checkPoll(max: out.count, minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs)
        try checkFramingRoom(out.count)
        return try core.pointee.poll(base, max: out.count, minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs)
    }

    /// With framing, a read can yield up to three completions: the array must hold three.
    @inline(__always)
    func checkFramingRoom(_ max: Int) throws(Errno) {
        if core.pointee.framing != .none && max < 3 {
            throw Errno.fail(EINVAL, "with framing, max must be at least 3 (one read can complete three messages runs)")
        }
    }

    /// Gives back the buffers of `completions` (entries without one are skipped). Returns how
    /// many were given back; throws EINVAL for ids not held (after giving back the valid ones).
    @inline(__always)
    @discardableResult
    public func release(_ completions: UnsafeBufferPointer<ReaderCompletion>) throws(Errno) -> Int {
        let (released, invalid) = core.pointee.release(completions)
        if invalid > 0 { throw Errno.fail(EINVAL, "\(invalid) completions name buffers the caller does not hold") }
        return released
    }

    /// Poll, copy the bytes into `buffer` and give the reader's buffers back at once.
    public func pollCopy(into out: UnsafeMutableBufferPointer<ReaderCompletion>, buffer: UnsafeMutableRawBufferPointer,
                         minComplete: Int = 1, minWaitNs: Int64 = 0, timeoutNs: Int64 = -1) throws(Errno) -> Int {
        guard let base = out.baseAddress else { throw Errno.fail(EINVAL, "the completion array is empty") }
        guard let buf = buffer.baseAddress else { throw Errno.fail(EINVAL, "the copy buffer is empty") }
        try ReaderCore.checkPoll(max: out.count, minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: timeoutNs)
        try checkFramingRoom(out.count)
        return try core.pointee.pollCopy(base, max: out.count, buf: buf, cap: buffer.count, minComplete: minComplete,
                                         minWaitNs: minWaitNs, timeoutNs: timeoutNs)
    }

    /// One batch of reads (see `alphacore_read_batch`): `out[i]` gets the result of `fds[i]`.
    public func readBatch(fds: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<UInt64>?,
                          into out: UnsafeMutableBufferPointer<ReaderCompletion>, timeoutNs: Int64 = -1) throws(Errno) -> Int {
        try core.pointee.readBatch(fds: fds, offsets: offsets, out: out, timeoutNs: timeoutNs)
    }
}
