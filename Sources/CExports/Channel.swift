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

extension alphacore_channel_opts: VersionedStruct {
    static let cName: StaticString = "alphacore_channel_opts"
    /// The defaults (ALPHACORE_CHANNEL_OPTS_INIT): 1 MiB ring, 4096-byte messages, broadcast.
    static let defaults = alphacore_channel_opts(
        struct_size: UInt32(MemoryLayout<alphacore_channel_opts>.size), flags: 0, capacity: 1 << 20, max_msg: 4096,
        node: -1, mem_flags: 0, reserved0: 0, wait_timeout_ns: 0, reserved: (0, 0, 0, 0))
}

extension alphacore_channel_reader_opts: VersionedStruct {
    static let cName: StaticString = "alphacore_channel_reader_opts"
    init(_ o: ChannelReaderOptions) {
        self.init(struct_size: UInt32(MemoryLayout<alphacore_channel_reader_opts>.size), flags: o.flags.rawValue,
                  spin_ns: o.spinNs, reserved: (0, 0, 0, 0))
    }
}

extension alphacore_channel_reader_details: VersionedStruct {
    static let cName: StaticString = "alphacore_channel_reader_details"
}

private func name(_ p: UnsafePointer<CChar>?) throws(Errno) -> String {
    try readCString(p, limit: 200, what: "channel name", tooLong: ENAMETOOLONG)
}

// MARK: producer

@c @implementation
public func alphacore_channel_create(_ n: UnsafePointer<CChar>?, _ opts: UnsafePointer<alphacore_channel_opts>?,
                                     _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return nullArgument("out") }
    out.pointee = nil
    return cStatus { () throws(Errno) in
        let o = try readVersioned(opts, defaults: alphacore_channel_opts.defaults)
        try requireZero(o.reserved0, "alphacore_channel_opts.reserved0")
        try requireZero(o.reserved, "alphacore_channel_opts.reserved")
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
    keepingErrno {
        p.pointee.destroy()
        destroyHandle(ch, as: ChannelProducer.self)
    }
}

@c @implementation
public func alphacore_channel_unlink(_ n: UnsafePointer<CChar>?) -> Int32 {
    cStatus { () throws(Errno) in
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
    return cStatus { () throws(Errno) in
        let o = try readVersioned(opts, defaults: alphacore_channel_reader_opts(ChannelReaderOptions()))
        try requireZero(o.reserved, "alphacore_channel_reader_opts.reserved")
        let options = ChannelReaderOptions(flags: .init(rawValue: o.flags), spinNs: o.spin_ns)
        out.pointee = makeHandle(try ChannelReader.open(name: try name(n), options: options))
        return 0
    }
}

@c @implementation
public func alphacore_channel_reader_close(_ rd: OpaquePointer?) {
    guard let r = reader(rd) else { return }
    keepingErrno {
        r.pointee.close()
        destroyHandle(rd, as: ChannelReader.self)
    }
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
    if buf == nil && cap != 0 { return coldFailure(EINVAL, "buf is NULL but cap is \(cap)") }
    if cap < 0 { return coldFailure(EINVAL, "cap is out of range") }
    return r.pointee.pollCopy(messages(out), Int(max), buf, cap)
}

@inline(never) private func badPoll(_ rd: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_channel_msg>?) -> Int32 {
    if rd == nil { return nullArgument("reader") }
    if out == nil { return nullArgument("out") }
    return coldFailure(EINVAL, "max is 0")
}

@c @implementation
public func alphacore_channel_reader_check(_ rd: OpaquePointer?) -> Int32 {
    guard let r = reader(rd) else { return nullArgument("reader") }
    return r.pointee.check()
}

@c @implementation
public func alphacore_channel_wait(_ rd: OpaquePointer?, _ timeoutNs: Int64) -> Int32 {
    cStatus { () throws(Errno) in
        guard let r = reader(rd) else { throw Errno.fail(EINVAL, "reader is NULL") }
        return try r.pointee.wait(timeoutNs: timeoutNs)
    }
}

@c @implementation
public func alphacore_channel_reader_hist(_ rd: OpaquePointer?) -> OpaquePointer? {
    guard let r = reader(rd), let h = r.pointee.hist else { return nil }
    return OpaquePointer(h.base)
}

@c @implementation
public func alphacore_channel_reader_info(_ rd: OpaquePointer?, _ out: UnsafeMutablePointer<alphacore_channel_reader_details>?) -> Int32 {
    cStatus { () throws(Errno) in
        guard let r = reader(rd) else { throw Errno.fail(EINVAL, "reader is NULL") }
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
        try writeVersioned(v, to: out)
        return 0
    }
}
