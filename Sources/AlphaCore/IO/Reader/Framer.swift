import Glibc

/// Message framing: completions carry whole messages only. A message split across reads is
/// put together in its fd's accumulator and handed out from the reassembly area of the buffer
/// that completed it (so it is released with that buffer's id).
struct Framer {
    var framing: ReaderFraming = .none
    var frameSize = 0
    /// The largest message that fits (the frame size, or one buffer).
    var maxFrame = 0
    /// One accumulator of `maxFrame` bytes per slot.
    var accumulators: UnsafeMutableRawPointer?
    var accumulatorBytes = 0
    /// One message area of `maxFrame` bytes per buffer.
    var reassembled: UnsafeMutableRawPointer?
    var reassembledBytes = 0

    init() {}

    /// Maps the accumulators and reassembly areas (nothing without framing).
    init(_ o: ReaderOptions, capacity: Int, bufferCount: Int, bufferSize: Int) throws(Errno) {
        framing = o.framing
        frameSize = Int(o.frameSize)
        if o.framing == .none { return }
        maxFrame = o.framing == .fixed ? Int(o.frameSize) : bufferSize
        let (a, ab, _) = try ReaderMemory.map(capacity * maxFrame, what: "framing accumulators")
        accumulators = a
        accumulatorBytes = ab
        do throws(Errno) {
            let (s, sb, _) = try ReaderMemory.map(bufferCount * maxFrame, what: "reassembled messages")
            reassembled = s
            reassembledBytes = sb
        } catch {
            munmap(a, ab)
            throw error
        }
    }

    func unmap() {
        if let a = accumulators { munmap(a, accumulatorBytes) }
        if let s = reassembled { munmap(s, reassembledBytes) }
    }

    /// Bytes needed before a message's size is known (the whole message for fixed framing).
    @inline(__always)
    var prefix: Int { framing == .fixed ? frameSize : framing.prefixBytes }

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
}

extension ReaderState {
    /// Framing: hands out the whole messages in `len` bytes of buffer `bid`, keeps an incomplete
    /// tail for the next read. Returns true when the fd ended (a message too large).
    mutating func deliverFramed(_ idx: Int, _ bid: Int, _ len: Int, _ out: UnsafeMutablePointer<ReaderCompletion>,
                                _ n: inout Int) -> Bool {
        let s = table.slots + idx
        let data = UnsafeRawPointer(pool.address(bid))
        let prefix = framer.prefix
        let before = pool.refs[bid]
        // 1. Finish the message this fd's last read left incomplete.
        var p = 0
        if s.pointee.partialBytes > 0 {
            p = finishPartial(idx, bid, data, len, out, &n)
            if p < 0 { return frameTooLarge(idx, bid, 0 - p, before, out, &n) }
        }
        // 2. The whole messages that follow, as one completion.
        let start = p
        var messages: UInt64 = 0
        while len - p >= prefix {
            let m = framer.frameLength(data + p)
            if m > framer.maxFrame {
                if p > start { emitRun(idx, bid, start, p, messages, out, &n) }
                return frameTooLarge(idx, bid, m, before, out, &n)
            }
            if len - p < m { break }
            p &+= m
            messages &+= 1
        }
        if p > start { emitRun(idx, bid, start, p, messages, out, &n) }
        // 3. Keep an incomplete tail for the next read.
        if p < len, let accumulators = framer.accumulators {
            let a = accumulators + idx &* framer.maxFrame
            a.copyMemory(from: data + p, byteCount: len - p)
            s.pointee.partialBytes = UInt32(len - p)
            let need = len - p >= prefix ? framer.frameLength(UnsafeRawPointer(a)) : 0
            // Checked before it is stored: a 4-byte prefix near 2^32 overflows the UInt32 field.
            if need > framer.maxFrame { return frameTooLarge(idx, bid, need, before, out, &n) }
            s.pointee.partialSize = UInt32(need)
        }
        if pool.refs[bid] == 0 { pool.recycle(bid) } else if before == 0 { pool.held &+= 1 }
        return false
    }

    /// Completes slot `idx`'s partial message from `data` (a reassembled completion once it is
    /// whole). Returns the bytes of `data` used, or minus the size its length prefix names when
    /// that message is too large.
    mutating func finishPartial(_ idx: Int, _ bid: Int, _ data: UnsafeRawPointer, _ len: Int,
                                _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) -> Int {
        guard let accumulators = framer.accumulators else { return 0 }
        let s = table.slots + idx
        let a = accumulators + idx &* framer.maxFrame
        var have = Int(s.pointee.partialBytes)
        var p = 0
        if s.pointee.partialSize == 0 {
            let take = min(framer.prefix - have, len)
            (a + have).copyMemory(from: data, byteCount: take)
            have += take
            p = take
            if have == framer.prefix {
                let need = framer.frameLength(UnsafeRawPointer(a))
                if need > framer.maxFrame { return 0 - need }
                s.pointee.partialSize = UInt32(need)
            }
        }
        if s.pointee.partialSize > 0 {
            let need = Int(s.pointee.partialSize)
            let take = min(need - have, len - p)
            (a + have).copyMemory(from: data + p, byteCount: take)
            have += take
            p += take
            if have == need, let area = framer.reassembled {
                let m = area + bid &* framer.maxFrame
                m.copyMemory(from: UnsafeRawPointer(a), byteCount: need)
                (out + n).initialize(to: ReaderCompletion(userData: s.pointee.userData, data: UnsafeRawPointer(m),
                                                          result: Int32(need), bufferID: UInt32(bid), fd: s.pointee.fd,
                                                          flags: ReaderCompletion.reassembled))
                n &+= 1
                pool.refs[bid] &+= 1
                counters.completions &+= 1
                counters.bytes &+= UInt64(need)
                counters.messages &+= 1
                counters.reassembled &+= 1
                have = 0
                s.pointee.partialSize = 0
            }
        }
        s.pointee.partialBytes = UInt32(have)
        return p
    }

    mutating func emitRun(_ idx: Int, _ bid: Int, _ from: Int, _ to: Int, _ messages: UInt64,
                          _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        let s = table.slots + idx
        (out + n).initialize(to: ReaderCompletion(userData: s.pointee.userData, data: UnsafeRawPointer(pool.address(bid) + from),
                                                  result: Int32(to - from), bufferID: UInt32(bid), fd: s.pointee.fd, flags: 0))
        n &+= 1
        pool.refs[bid] &+= 1
        counters.completions &+= 1
        counters.bytes &+= UInt64(to - from)
        counters.messages &+= messages
    }

    /// A length prefix larger than a buffer: the fd ends with -EMSGSIZE (the caller's backend
    /// stops reading it). Returns true.
    @inline(never)
    mutating func frameTooLarge(_ idx: Int, _ bid: Int, _ size: Int, _ before: UInt32,
                                _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) -> Bool {
        Detail.set("fd \(table.slots[idx].fd) sent a message of \(size) bytes; the largest that fits is \(framer.maxFrame)")
        table.slots[idx].partialBytes = 0
        deliverEnd(idx, -EMSGSIZE, out, &n)
        if pool.refs[bid] == 0 { pool.recycle(bid) } else if before == 0 { pool.held &+= 1 }
        return true
    }
}
