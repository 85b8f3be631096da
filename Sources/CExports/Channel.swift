// The C ABI for channels. Thin: argument checks, then AlphaCore (Channel/). claim, commit,
// publish and poll are the hot path: a NULL check and one call, failures out of line.
import AlphaCore
import CAlphaCoreABI
import Glibc

@inline(__always) private func producer(_ p: OpaquePointer?) -> UnsafeMutablePointer<ChannelProducer>? {
    p.map { UnsafeMutablePointer<ChannelProducer>($0) }
}

@inline(__always) private func reader(_ p: OpaquePointer?) -> UnsafeMutablePointer<ChannelReader>? {
    p.map { UnsafeMutablePointer<ChannelReader>($0) }
}

@inline(never) private func nullArgument(_ what: StaticString) -> Int32 {
    Errno.fail(EINVAL, "\(what) is NULL").negated
}

private let defaultChannelOpts = alphacore_channel_opts(
    struct_size: UInt32(MemoryLayout<alphacore_channel_opts>.size), flags: 0, capacity: 1 << 20, max_msg: 4096,
    node: -1, mem_flags: 0, reserved0: 0, wait_timeout_ns: 0, reserved: (0, 0, 0, 0))

private let defaultReaderOpts = alphacore_channel_reader_opts(
    struct_size: UInt32(MemoryLayout<alphacore_channel_reader_opts>.size), flags: 0, spin_ns: 50_000,
    reserved: (0, 0, 0, 0))

private func name(_ p: UnsafePointer<CChar>?) throws(Errno) -> String {
    guard let p else { throw Errno.fail(EINVAL, "name is NULL") }
    if strnlen(p, 256) > 255 { throw Errno.fail(ENAMETOOLONG, "a channel name has at most 200 bytes") }
    return try readCString(p, limit: 255, what: "name")
}

// MARK: producer

@c @implementation
public func alphacore_channel_create(_ n: UnsafePointer<CChar>?, _ opts: UnsafePointer<alphacore_channel_opts>?,
                                     _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return nullArgument("out") }
    out.pointee = nil
    return cResult { () throws(Errno) -> Int32 in
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultChannelOpts, name: "alphacore_channel_opts")
        if o.reserved0 != 0 || o.reserved != (0, 0, 0, 0) {
            throw Errno.fail(EINVAL, "alphacore_channel_opts reserved fields must be 0")
        }
        if o.capacity > UInt64(Int.max) { throw Errno.fail(EINVAL, "capacity \(o.capacity) is out of range") }
        let g = ChannelGeometry(capacity: Int(o.capacity), maxMessage: Int(o.max_msg), flags: ChannelFlags(rawValue: o.flags))
        let mem = MemOptions(node: o.node, pageSize: 0, flags: .init(rawValue: o.mem_flags))
        let p = try ChannelProducer.create(name: try name(n), geometry: g, memory: mem, waitTimeoutNs: o.wait_timeout_ns)
        out.pointee = makeHandle(p)
        return 0
    }
}

@c @implementation
public func alphacore_channel_destroy(_ ch: OpaquePointer?) {
    guard let p = producer(ch) else { return }
    p.pointee.destroy()
    destroyHandle(ch, as: ChannelProducer.self)
}

@c @implementation
public func alphacore_channel_unlink(_ n: UnsafePointer<CChar>?) -> Int32 {
    cResult { () throws(Errno) -> Int32 in
        try ChannelProducer.unlink(name: try name(n))
        return 0
    }
}

@c @implementation
public func alphacore_channel_claim(_ ch: OpaquePointer?, _ len: Int,
                                    _ ptr: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    guard let p = producer(ch), let ptr else { return nullArgument("ch or ptr") }
    return p.pointee.claim(len, ptr)
}

@c @implementation
public func alphacore_channel_commit(_ ch: OpaquePointer?, _ ptr: UnsafeMutableRawPointer?) -> Int32 {
    guard let p = producer(ch) else { return nullArgument("ch") }
    return p.pointee.commit(ptr)
}

@c @implementation
public func alphacore_channel_publish(_ ch: OpaquePointer?, _ msg: UnsafeRawPointer?, _ len: Int) -> Int32 {
    guard let p = producer(ch) else { return nullArgument("ch") }
    return p.pointee.publish(msg, len)
}

@c @implementation
public func alphacore_channel_heartbeat(_ ch: OpaquePointer?) -> Int32 {
    guard let p = producer(ch) else { return nullArgument("ch") }
    p.pointee.heartbeat()
    return 0
}

// MARK: reader

@c @implementation
public func alphacore_channel_open(_ n: UnsafePointer<CChar>?, _ opts: UnsafePointer<alphacore_channel_reader_opts>?,
                                   _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return nullArgument("out") }
    out.pointee = nil
    return cResult { () throws(Errno) -> Int32 in
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultReaderOpts, name: "alphacore_channel_reader_opts")
        if o.reserved != (0, 0, 0, 0) { throw Errno.fail(EINVAL, "alphacore_channel_reader_opts reserved fields must be 0") }
        let options = ChannelReaderOptions(flags: .init(rawValue: o.flags), spinNs: o.spin_ns)
        out.pointee = makeHandle(try ChannelReader.open(name: try name(n), options: options))
        return 0
    }
}

@c @implementation
public func alphacore_channel_reader_close(_ rd: OpaquePointer?) {
    guard let r = reader(rd) else { return }
    r.pointee.close()
    destroyHandle(rd, as: ChannelReader.self)
}

@inline(__always) private func messages(_ out: UnsafeMutablePointer<alphacore_channel_msg>) -> UnsafeMutablePointer<ChannelMessage> {
    UnsafeMutableRawPointer(out).assumingMemoryBound(to: ChannelMessage.self)
}

@c @implementation
public func alphacore_channel_poll(_ rd: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_channel_msg>?,
                                   _ max: UInt32) -> Int32 {
    guard let r = reader(rd), let out, max > 0 else { return badPoll(rd, out) }
    return r.pointee.poll(messages(out), Int(max))
}

@c @implementation
public func alphacore_channel_poll_copy(_ rd: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_channel_msg>?,
                                        _ max: UInt32, _ buf: UnsafeMutableRawPointer?, _ cap: Int) -> Int32 {
    guard let r = reader(rd), let out, max > 0 else { return badPoll(rd, out) }
    if buf == nil && cap != 0 { return Errno.fail(EINVAL, "buf is NULL but cap is \(cap)").negated }
    if cap < 0 { return Errno.fail(EINVAL, "cap is out of range").negated }
    return r.pointee.pollCopy(messages(out), Int(max), buf, cap)
}

@inline(never) private func badPoll(_ rd: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_channel_msg>?) -> Int32 {
    if rd == nil { return nullArgument("reader") }
    if out == nil { return nullArgument("out") }
    return Errno.fail(EINVAL, "max is 0").negated
}

@c @implementation
public func alphacore_channel_reader_check(_ rd: OpaquePointer?) -> Int32 {
    guard let r = reader(rd) else { return nullArgument("reader") }
    return r.pointee.check()
}

@c @implementation
public func alphacore_channel_wait(_ rd: OpaquePointer?, _ timeoutNs: Int64) -> Int32 {
    guard let r = reader(rd) else { return nullArgument("reader") }
    return r.pointee.wait(timeoutNs: timeoutNs)
}

@c @implementation
public func alphacore_channel_reader_hist(_ rd: OpaquePointer?) -> OpaquePointer? {
    guard let r = reader(rd), let h = r.pointee.hist else { return nil }
    return OpaquePointer(h.base)
}

@c @implementation
public func alphacore_channel_reader_info(_ rd: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_channel_reader_details>?) -> Int32 {
    cResult { () throws(Errno) -> Int32 in
        guard let r = reader(rd) else { throw Errno.fail(EINVAL, "reader is NULL") }
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        var v = alphacore_channel_reader_details()
        let rd = r.pointee, s = rd.stats, prod = rd.producer
        let now = Clock.nowNanoseconds()
        v.struct_size = UInt32(MemoryLayout<alphacore_channel_reader_details>.size)
        v.flags = rd.geometry.flags.rawValue
        v.capacity = UInt64(rd.geometry.capacity)
        v.max_msg = UInt32(rd.geometry.maxMessage)
        v.producer_pid = prod.pid
        v.producer_alive = prod.alive ? 1 : 0
        v.registered = rd.registered ? 1 : 0
        v.epoch = rd.epoch
        v.position = rd.currentPosition
        v.next_seq = rd.nextSeq
        v.producer_seq = prod.seq
        v.backlog_bytes = prod.tail > rd.currentPosition ? prod.tail &- rd.currentPosition : 0
        v.messages = s.messages
        v.lost = s.lost
        v.last_lost = s.lastLost
        v.overflows = s.overflows
        v.epoch_changes = s.epochChanges
        v.protocol_errors = s.protocolErrors
        v.heartbeat_ns = prod.heartbeatNs
        v.heartbeat_age_ns = now > prod.heartbeatNs ? now &- prod.heartbeatNs : 0
        try writeDetails(v, to: UnsafeMutableRawPointer(out))
        return 0
    }
}

/// Writes min(struct_size, sizeof) bytes of the details (the caller's struct_size stays).
private func writeDetails(_ value: alphacore_channel_reader_details, to out: UnsafeMutableRawPointer) throws(Errno) {
    let declared = Int(out.loadUnaligned(as: UInt32.self))
    if declared < 8 {
        throw Errno.fail(EINVAL, "alphacore_channel_reader_details.struct_size is \(declared); set it to sizeof")
    }
    var v = value
    withUnsafeBytes(of: &v) { src in
        if let s = src.baseAddress {
            (out + 4).copyMemory(from: s + 4, byteCount: min(declared, src.count) - 4)
        }
    }
}
