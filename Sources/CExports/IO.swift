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

@c @implementation
public func alphacore_reader_create(_ opts: UnsafePointer<alphacore_reader_opts>?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cResult { () throws(Errno) -> Int32 in
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        var defaults = alphacore_reader_opts()
        defaults.struct_size = UInt32(MemoryLayout<alphacore_reader_opts>.size)
        defaults.backend = 0
        defaults.sqpoll_cpu = -1
        defaults.capacity = 1024
        defaults.buf_size = 4096
        defaults.buf_count = 2048
        let o = try readOptions(opts.map { UnsafeRawPointer($0) }, defaults: defaults, name: "alphacore_reader_opts")
        if o.reserved.0 != 0 || o.reserved.1 != 0 || o.reserved.2 != 0 {
            throw Errno.fail(EINVAL, "alphacore_reader_opts.reserved must be zero")
        }
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
    Reader(core: c).destroy()
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

/// Writes `value` to a caller's output struct of `struct_size` bytes (its first field).
private func writeOut<T>(_ value: T, to out: UnsafeMutableRawPointer, name: StaticString) throws(Errno) {
    let declared = Int(out.loadUnaligned(as: UInt32.self))
    if declared < 8 { throw Errno.fail(EINVAL, "\(name).struct_size is \(declared); set it to sizeof(\(name))") }
    var v = value
    withUnsafeBytes(of: &v) { src in
        let n = min(declared, src.count)
        out.advanced(by: 4).copyMemory(from: src.baseAddress!.advanced(by: 4), byteCount: n - 4)
    }
}

@c @implementation
public func alphacore_reader_info(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_reader_details>?) -> Int32 {
    cResult { () throws(Errno) -> Int32 in
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
        try writeOut(v, to: UnsafeMutableRawPointer(out), name: "alphacore_reader_details")
        return 0
    }
}

@c @implementation
public func alphacore_reader_stats(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_reader_counters>?) -> Int32 {
    cResult { () throws(Errno) -> Int32 in
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
        try writeOut(v, to: UnsafeMutableRawPointer(out), name: "alphacore_reader_counters")
        return 0
    }
}

@c @implementation
public func alphacore_reader_add(_ r: OpaquePointer?, _ fd: Int32, _ user_data: UInt64) -> Int32 {
    cResult { () throws(Errno) -> Int32 in
        guard let c = core(r) else { throw noReader() }
        try Reader(core: c).add(fd: fd, userData: user_data)
        return 0
    }
}

@c @implementation
public func alphacore_reader_remove(_ r: OpaquePointer?, _ fd: Int32) -> Int32 {
    cResult { () throws(Errno) -> Int32 in
        guard let c = core(r) else { throw noReader() }
        try Reader(core: c).remove(fd: fd)
        return 0
    }
}

@c @implementation
public func alphacore_reader_poll(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_completion>?, _ max: UInt32,
                                  _ min_complete: UInt32, _ min_wait_ns: Int64, _ timeout_ns: Int64) -> Int32 {
    do throws(Errno) {
        guard let c = core(r) else { throw noReader() }
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        let n = try Reader(core: c).poll(into: UnsafeMutableBufferPointer(start: completions(out), count: Int(min(max, 1 << 20))),
                                         minComplete: Int(min_complete), minWaitNs: min_wait_ns, timeoutNs: timeout_ns)
        return Int32(truncatingIfNeeded: n)
    } catch {
        return error.negated
    }
}

@c @implementation
public func alphacore_reader_release(_ r: OpaquePointer?, _ list: UnsafePointer<alphacore_completion>?, _ n: UInt32) -> Int32 {
    do throws(Errno) {
        guard let c = core(r) else { throw noReader() }
        if n == 0 { return 0 }
        guard let list else { throw Errno.fail(EINVAL, "completions is NULL but n is \(n)") }
        let p = UnsafeRawPointer(list).assumingMemoryBound(to: ReaderCompletion.self)
        let done = try Reader(core: c).release(UnsafeBufferPointer(start: p, count: Int(n)))
        return Int32(truncatingIfNeeded: done)
    } catch {
        return error.negated
    }
}

@c @implementation
public func alphacore_reader_poll_copy(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_completion>?, _ max: UInt32,
                                       _ buf: UnsafeMutableRawPointer?, _ buf_cap: Int, _ min_complete: UInt32,
                                       _ min_wait_ns: Int64, _ timeout_ns: Int64) -> Int32 {
    do throws(Errno) {
        guard let c = core(r) else { throw noReader() }
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        guard let buf else { throw Errno.fail(EINVAL, "buf is NULL") }
        if buf_cap < 0 { throw Errno.fail(EINVAL, "buf_cap \(UInt(bitPattern: buf_cap)) is larger than any buffer") }
        let n = try Reader(core: c).pollCopy(into: UnsafeMutableBufferPointer(start: completions(out), count: Int(min(max, 1 << 20))),
                                             buffer: UnsafeMutableRawBufferPointer(start: buf, count: buf_cap),
                                             minComplete: Int(min_complete), minWaitNs: min_wait_ns, timeoutNs: timeout_ns)
        return Int32(truncatingIfNeeded: n)
    } catch {
        return error.negated
    }
}

@c @implementation
public func alphacore_read_batch(_ r: OpaquePointer?, _ fds: UnsafePointer<Int32>?, _ offsets: UnsafePointer<UInt64>?,
                                 _ n: UInt32, _ out: UnsafeMutablePointer<alphacore_completion>?, _ timeout_ns: Int64) -> Int32 {
    do throws(Errno) {
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
    } catch {
        return error.negated
    }
}
