// The C ABI for batched reads. Thin: checks arguments, calls AlphaCore's Reader, maps errors.
import AlphaCore
import CAlphaCoreABI
import Glibc

@inline(__always)
private func core(_ r: OpaquePointer?) -> UnsafeMutablePointer<ReaderCore>? {
    r.map { UnsafeMutablePointer<ReaderCore>($0) }
}

/// alphacore_completion and ReaderCompletion have the same layout (checked by the C tests).
@inline(__always)
private func completions(_ p: UnsafeMutablePointer<alphacore_completion>) -> UnsafeMutablePointer<ReaderCompletion> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: ReaderCompletion.self)
}

private func noReader() -> Errno { Errno.fail(EINVAL, "the reader is NULL") }

extension alphacore_reader_opts: VersionedStruct {
    static let cName: StaticString = "alphacore_reader_opts"

    /// The C struct of Swift options: the defaults are ReaderOptions' (NULL options mean those).
    init(_ o: ReaderOptions) {
        self.init(struct_size: UInt32(MemoryLayout<Self>.size), backend: o.backend.rawValue, flags: o.flags.rawValue,
                  sqpoll_cpu: o.sqpollCPU, capacity: o.capacity, buf_size: o.bufferSize, buf_count: o.bufferCount,
                  framing: o.framing.rawValue, frame_size: o.frameSize, sqpoll_idle_ms: o.sqpollIdleMs,
                  profile: o.profile.rawValue, spin_us: o.spinMicros, reserved: (0, 0, 0))
    }
}

extension alphacore_reader_details: VersionedStruct {
    static let cName: StaticString = "alphacore_reader_details"
}

extension alphacore_reader_counters: VersionedStruct {
    static let cName: StaticString = "alphacore_reader_counters"
}

@c @implementation
public func alphacore_reader_create(_ opts: UnsafePointer<alphacore_reader_opts>?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cStatus { () throws(Errno) in
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        let o = try readVersioned(opts, defaults: alphacore_reader_opts(ReaderOptions()))
        try requireZero(o.reserved, "alphacore_reader_opts.reserved")
        var options = ReaderOptions()
        guard let backend = ReaderBackend(rawValue: o.backend) else {
            throw Errno.fail(EINVAL, "backend \(o.backend) is not ALPHACORE_READER_AUTO, _IO_URING or _EPOLL")
        }
        guard let framing = ReaderFraming(rawValue: o.framing) else {
            throw Errno.fail(EINVAL, "framing \(o.framing) is not one of ALPHACORE_FRAME_*")
        }
        options.backend = backend
        options.flags = ReaderFlags(rawValue: o.flags)
        options.sqpollCPU = o.sqpoll_cpu
        options.capacity = o.capacity
        options.bufferSize = o.buf_size
        options.bufferCount = o.buf_count
        options.framing = framing
        options.frameSize = o.frame_size
        options.sqpollIdleMs = o.sqpoll_idle_ms
        guard let profile = ReaderProfile(rawValue: o.profile) else {
            throw Errno.fail(EINVAL, "profile \(o.profile) is not ALPHACORE_READER_PROFILE_THROUGHPUT, _LATENCY or _SPIN")
        }
        options.profile = profile
        options.spinMicros = o.spin_us
        let reader = try Reader(options)
        out.pointee = OpaquePointer(reader.core)
        return 0
    }
}

@c @implementation
public func alphacore_reader_destroy(_ r: OpaquePointer?) {
    guard let c = core(r) else { return }
    keepingErrno { Reader(core: c).destroy() }
}

/// Copies a Swift string into a fixed C char array (truncated, NUL-terminated).
private func fill<T>(_ field: inout T, _ text: String) {
    withUnsafeMutableBytes(of: &field) { raw in
        let cap = raw.count - 1
        var i = 0
        for b in text.utf8 where i < cap {
            raw[i] = b
            i += 1
        }
        raw[i] = 0
    }
}

@c @implementation
public func alphacore_reader_info(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_reader_details>?) -> Int32 {
    cStatus { () throws(Errno) in
        guard let c = core(r) else { throw noReader() }
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        let d = Reader(core: c).details
        var v = alphacore_reader_details()
        v.struct_size = UInt32(MemoryLayout<alphacore_reader_details>.size)
        v.backend = d.backend.rawValue
        v.requested = d.requested.rawValue
        v.uring_errno = d.uringErrno
        fill(&v.uring_stage, d.uringStage)
        fill(&v.reason, d.reason)
        v.setup_flags = d.setupFlags
        v.features = d.features
        v.sq_entries = d.sqEntries
        v.cq_entries = d.cqEntries
        v.capacity = d.capacity
        v.buf_size = d.bufferSize
        v.buf_count = d.bufferCount
        v.flags = d.flags.rawValue
        v.framing = d.framing.rawValue
        v.frame_size = d.frameSize
        v.buffer_bytes = d.bufferBytes
        v.profile = d.profile.rawValue
        v.spin_us = d.spinMicros
        try writeVersioned(v, to: out)
        return 0
    }
}

@c @implementation
public func alphacore_reader_stats(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_reader_counters>?) -> Int32 {
    cStatus { () throws(Errno) in
        guard let c = core(r) else { throw noReader() }
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        let s = Reader(core: c).counters
        var v = alphacore_reader_counters()
        v.struct_size = UInt32(MemoryLayout<alphacore_reader_counters>.size)
        v.fds = s.fds
        v.polls = s.polls
        v.syscalls = s.syscalls
        v.completions = s.completions
        v.bytes = s.bytes
        v.messages = s.messages
        v.reassembled = s.reassembled
        v.enobufs = s.enobufs
        v.rearms = s.rearms
        v.overflows = s.overflows
        v.eofs = s.eofs
        v.errors = s.errors
        v.buffers_held = s.buffersHeld
        try writeVersioned(v, to: out)
        return 0
    }
}

@c @implementation
public func alphacore_reader_add(_ r: OpaquePointer?, _ fd: Int32, _ user_data: UInt64) -> Int32 {
    cStatus { () throws(Errno) in
        guard let c = core(r) else { throw noReader() }
        try Reader(core: c).add(fd: fd, userData: user_data)
        return 0
    }
}

@c @implementation
public func alphacore_reader_remove(_ r: OpaquePointer?, _ fd: Int32) -> Int32 {
    cStatus { () throws(Errno) in
        guard let c = core(r) else { throw noReader() }
        try Reader(core: c).remove(fd: fd)
        return 0
    }
}

@c @implementation
public func alphacore_reader_poll(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_completion>?, _ max: UInt32,
                                  _ min_complete: UInt32, _ min_wait_ns: Int64, _ timeout_ns: Int64) -> Int32 {
    cStatus { () throws(Errno) in
        guard let c = core(r) else { throw noReader() }
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        let n = try Reader(core: c).poll(into: UnsafeMutableBufferPointer(start: completions(out), count: Int(min(max, 1 << 20))),
                                         minComplete: Int(min_complete), minWaitNs: min_wait_ns, timeoutNs: timeout_ns)
        return Int32(truncatingIfNeeded: n)
    }
}

@c @implementation
public func alphacore_reader_release(_ r: OpaquePointer?, _ list: UnsafePointer<alphacore_completion>?, _ n: UInt32) -> Int32 {
    cStatus { () throws(Errno) in
        guard let c = core(r) else { throw noReader() }
        if n == 0 { return 0 }
        guard let list else { throw Errno.fail(EINVAL, "completions is NULL but n is \(n)") }
        let p = UnsafeRawPointer(list).assumingMemoryBound(to: ReaderCompletion.self)
        let done = try Reader(core: c).release(UnsafeBufferPointer(start: p, count: Int(n)))
        return Int32(truncatingIfNeeded: done)
    }
}

@c @implementation
public func alphacore_reader_poll_copy(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_completion>?, _ max: UInt32,
                                       _ buf: UnsafeMutableRawPointer?, _ buf_cap: Int, _ min_complete: UInt32,
                                       _ min_wait_ns: Int64, _ timeout_ns: Int64) -> Int32 {
    cStatus { () throws(Errno) in
        guard let c = core(r) else { throw noReader() }
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        guard let buf else { throw Errno.fail(EINVAL, "buf is NULL") }
        if buf_cap < 0 { throw Errno.fail(EINVAL, "buf_cap \(UInt(bitPattern: buf_cap)) is larger than any buffer") }
        let n = try Reader(core: c).pollCopy(into: UnsafeMutableBufferPointer(start: completions(out), count: Int(min(max, 1 << 20))),
                                             buffer: UnsafeMutableRawBufferPointer(start: buf, count: buf_cap),
                                             minComplete: Int(min_complete), minWaitNs: min_wait_ns, timeoutNs: timeout_ns)
        return Int32(truncatingIfNeeded: n)
    }
}

@c @implementation
public func alphacore_read_batch(_ r: OpaquePointer?, _ fds: UnsafePointer<Int32>?, _ offsets: UnsafePointer<UInt64>?,
                                 _ n: UInt32, _ out: UnsafeMutablePointer<alphacore_completion>?, _ timeout_ns: Int64) -> Int32 {
    cStatus { () throws(Errno) in
        guard let c = core(r) else { throw noReader() }
        if n == 0 { return 0 }
        guard let fds else { throw Errno.fail(EINVAL, "fds is NULL but n is \(n)") }
        guard let out else { throw Errno.fail(EINVAL, "out is NULL but n is \(n)") }
        let count = Int(n)
        let got = try Reader(core: c).readBatch(fds: UnsafeBufferPointer(start: fds, count: count),
                                                offsets: offsets.map { UnsafeBufferPointer(start: $0, count: count) },
                                                into: UnsafeMutableBufferPointer(start: completions(out), count: count),
                                                timeoutNs: timeout_ns)
        return Int32(truncatingIfNeeded: got)
    }
}
