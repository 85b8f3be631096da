import CZlib
import Glibc

/// Decoding every HdrHistogram encoding that HdrHistogram_c or Java HdrHistogram reads, base64
/// wrapped (surrounding whitespace allowed):
///
///     compressed    be32 cookie | be32 length | zlib(payload)     V2 0x1c849304, V1 0x1c849302,
///                                                                 V0 0x1c849309 (| 0xf0 ignored)
///     uncompressed  the payload alone, as Java's decodeFromByteBuffer accepts it
///
///     payload V2    be32 0x1c849313 | be32 payloadLength | be32 normalizingIndexOffset (0)
///                   | be32 digits | be64 lowest | be64 highest | be64 conversionRatio
///                   | payloadLength bytes of ZigZag LEB128 counts (a run of k empty slots as -k)
///     payload V1    be32 0x1c849301 | ws << 4 | the same 36 header bytes as V2
///                   | payloadLength bytes: payloadLength / ws big-endian words, one per slot
///     payload V0    be32 0x1c849308 | ws << 4 | be32 digits | be64 lowest | be64 highest
///                   | be64 totalCount (ignored) | big-endian words to the end (<= counts length)
///
/// (jHiccup 2.0.1 wrote V0, 2.0.6 V1.) The word size ws must be 2, 4 or 8; 2- and 4-byte words
/// are unsigned, as HdrHistogram_c reads them. Hostile input gets EFORMAT (EINVAL for an
/// impossible configuration is reported as EFORMAT too, EOVERFLOW for counts that overflow);
/// nothing is allocated in proportion to what the input merely claims.
extension HistogramCodec {
    static let v2Compressed: UInt32 = 0x1c84_9304, v1Compressed: UInt32 = 0x1c84_9302, v0Compressed: UInt32 = 0x1c84_9309
    static let v2Encoding: UInt32 = 0x1c84_9303, v1Encoding: UInt32 = 0x1c84_9301, v0Encoding: UInt32 = 0x1c84_9308

    public static func decode(_ text: UnsafeBufferPointer<UInt8>) throws(Errno) -> Histogram {
        if text.count > maxEncodedLength {
            throw Errno.fail(E2BIG, "encoded histogram is \(text.count) bytes, above the \(maxEncodedLength) limit")
        }
        // malloc, not an Array: up to 96 MB for the largest input, and a failed allocation must
        // be ENOMEM for the caller, not an abort of the process.
        let bytes = try Base64.decodeAllocated(text)
        defer { free(bytes.baseAddress) }
        guard let b0 = bytes.baseAddress, bytes.count >= 8 else {
            throw Errno.fail(Errno.format, "encoded histogram is \(bytes.count) bytes, shorter than its 8-byte header")
        }
        let cookie = getBE32(UnsafePointer(b0))
        let base = cookie & ~0xf0
        if base == v2Encoding || base == v1Encoding || base == v0Encoding {
            var raw = Inflater(raw: b0, count: bytes.count)
            return try decodePayload(&raw).histogram
        }
        guard base == v2Compressed || base == v1Compressed || base == v0Compressed else {
            throw Errno.fail(Errno.format, "bad cookie 0x\(hex(cookie)); expected an HdrHistogram V0, V1 or V2 encoding")
        }
        let length = Int(getBE32(UnsafePointer(b0 + 4)))
        if length != bytes.count - 8 {
            throw Errno.fail(Errno.format, "header says \(length) compressed bytes, but \(bytes.count - 8) follow")
        }
        var stream = Inflater()
        try stream.start(UnsafeBufferPointer(start: b0 + 8, count: length))
        defer { stream.finish() }
        let h = try decodePayload(&stream)
        let want: UInt32 = base == v2Compressed ? v2Encoding : base == v1Compressed ? v1Encoding : v0Encoding
        if h.encodingCookieBase != want {
            h.histogram.destroy()
            throw Errno.fail(Errno.format, "compressed cookie 0x\(hex(cookie)) wraps a payload of another version")
        }
        return h.histogram
    }

    /// The payload's header and counts, from an inflating stream or raw bytes.
    static func decodePayload(_ stream: inout Inflater) throws(Errno) -> (histogram: Histogram, encodingCookieBase: UInt32) {
        try stream.fill(atLeast: payloadHeaderSize)
        if stream.available < 32 {
            throw Errno.fail(Errno.format, "payload is \(stream.available) bytes, shorter than its header")
        }
        let hp = stream.window + stream.pos
        let cookie = getBE32(hp)
        let base = cookie & ~0xf0
        let wordSize = Int((cookie & 0xf0) >> 4)
        let digits: Int, lowest: Int64, highest: Int64
        var payloadLength = Int.max       // V0: the rest of the payload
        if base == v0Encoding {
            digits = Int(getBE32(hp + 4))
            lowest = Int64(bitPattern: getBE64(hp + 8))
            highest = Int64(bitPattern: getBE64(hp + 16))
            stream.pos += 32
        } else if base == v1Encoding || base == v2Encoding {
            if stream.available < payloadHeaderSize {
                throw Errno.fail(Errno.format, "payload is \(stream.available) bytes, shorter than its 40-byte header")
            }
            payloadLength = Int(getBE32(hp + 4))
            let normalizing = getBE32(hp + 8)
            digits = Int(getBE32(hp + 12))
            lowest = Int64(bitPattern: getBE64(hp + 16))
            highest = Int64(bitPattern: getBE64(hp + 24))
            if normalizing != 0 {
                throw Errno.fail(Errno.format, "normalizing index offset \(normalizing) is not supported (only 0)")
            }
            stream.pos += payloadHeaderSize
        } else {
            throw Errno.fail(Errno.format, "bad payload cookie 0x\(hex(cookie)); expected V0, V1 or V2 (0x1c849313)")
        }
        if base != v2Encoding && wordSize != 2 && wordSize != 4 && wordSize != 8 {
            throw Errno.fail(Errno.format, "word size \(wordSize) in cookie 0x\(hex(cookie)) is not 2, 4 or 8")
        }
        let config: Histogram.Config
        do { config = try Histogram.Config(lowest: lowest, highest: highest, digits: digits) } catch {
            throw Errno.fail(Errno.format, "payload declares an impossible configuration: " + Detail.current)
        }
        let slots = Int(config.countsLength)
        let most = base == v2Encoding ? slots * 9 : slots * wordSize
        if payloadLength != Int.max && payloadLength > most {
            throw Errno.fail(Errno.format, "payload length \(payloadLength) exceeds the \(most) bytes \(slots) counts can take")
        }
        let h = try Histogram.create(config)
        do {
            if base == v2Encoding {
                try decodeCounts(&stream, into: h, payloadLength: payloadLength)
            } else {
                try decodeWords(&stream, into: h, wordSize: wordSize, payloadLength: payloadLength)
            }
        } catch {
            h.destroy()
            throw error
        }
        h.recomputeSummary()
        return (h, base)
    }

    /// V0/V1 counts: big-endian words, one per slot from slot 0. V1 has exactly payloadLength
    /// bytes; V0 runs to the end of the payload.
    static func decodeWords(_ stream: inout Inflater, into h: Histogram, wordSize ws: Int, payloadLength: Int) throws(Errno) {
        if payloadLength != Int.max && payloadLength % ws != 0 {
            throw Errno.fail(Errno.format, "payload length \(payloadLength) is not a multiple of the \(ws)-byte word")
        }
        let c = h.counts
        let slots = h.countsLength
        var index = 0, consumed = 0
        var total: Int64 = 0
        while consumed < payloadLength {
            if stream.available < ws { try stream.fill(atLeast: ws) }
            if stream.available == 0 && payloadLength == Int.max { break }
            if stream.available < ws {
                throw Errno.fail(Errno.format, "payload ends inside a count after \(consumed) bytes")
            }
            if index >= slots {
                throw Errno.fail(Errno.format, "more counts than the \(slots) slots of the declared configuration")
            }
            let p = stream.window + stream.pos
            let value: Int64
            switch ws {
            case 2: value = Int64(UInt16(p[0]) << 8 | UInt16(p[1]))
            case 4: value = Int64(getBE32(p))
            default: value = Int64(bitPattern: getBE64(p))
            }
            if value < 0 { throw Errno.fail(EOVERFLOW, "count \(value) at slot \(index) is negative") }
            try addDecoded(value, to: &total)
            c[index] = value
            index += 1
            stream.pos += ws
            consumed += ws
        }
        if payloadLength == Int.max, stream.available > 0 {
            throw Errno.fail(Errno.format, "\(stream.available) bytes after the last whole count")
        }
    }

    /// A decoded count onto the running total: at most Histogram.maxTotal (2^62), as everywhere.
    static func addDecoded(_ value: Int64, to total: inout Int64) throws(Errno) {
        let (t, o) = total.addingReportingOverflow(value)
        if o || t > Histogram.maxTotal {
            throw Errno.fail(EOVERFLOW, "the counts add up to more than 2^62, the library's largest total")
        }
        total = t
    }

    static func decodeCounts(_ stream: inout Inflater, into h: Histogram, payloadLength: Int) throws(Errno) {
        let c = h.counts
        let slots = h.countsLength
        var consumed = 0
        var index = 0
        var total: Int64 = 0
        while consumed < payloadLength {
            if stream.available < 9 { try stream.fill(atLeast: 9) }
            let want = Swift.min(payloadLength - consumed, stream.available)
            if want == 0 {
                throw Errno.fail(Errno.format, "payload ends after \(consumed) of \(payloadLength) count bytes")
            }
            // Decode one varint from at most `want` bytes.
            let p = stream.window + stream.pos
            var raw: UInt64 = 0
            var used = 0
            var shift: UInt64 = 0
            while true {
                if used == want { throw Errno.fail(Errno.format, "truncated varint at payload byte \(consumed)") }
                let b = p[used]
                used += 1
                if used == 9 { raw |= UInt64(b) &<< 56; break }
                raw |= UInt64(b & 0x7f) &<< shift
                if b & 0x80 == 0 { break }
                shift &+= 7
            }
            stream.pos += used
            consumed += used
            let value = Int64(bitPattern: (raw &>> 1) ^ (0 &- (raw & 1)))
            if value < 0 {
                let zeros = value == Int64.min ? Int64.max : -value
                if zeros > Int64(slots - index) {
                    throw Errno.fail(Errno.format, "a run of \(zeros) empty slots passes the end of the \(slots) counts")
                }
                index += Int(zeros)
            } else {
                if index >= slots {
                    throw Errno.fail(Errno.format, "more counts than the \(slots) slots of the declared configuration")
                }
                try addDecoded(value, to: &total)
                c[index] = value
                index += 1
            }
        }
    }
}

/// Streaming inflate into a fixed window: memory use is bounded whatever the input claims.
struct Inflater {
    static let windowSize = 1 << 16
    var z = z_stream()
    var window: UnsafeMutablePointer<UInt8>
    var pos = 0          // first unread byte in window
    var limit = 0        // one past the last inflated byte
    var finished = false
    var started = false
    var owned = true     // false: the window is the caller's raw (uncompressed) bytes

    init() { window = .allocate(capacity: Inflater.windowSize) }

    /// Raw bytes that need no inflating: the whole input is the window.
    init(raw: UnsafeMutablePointer<UInt8>, count: Int) {
        window = raw
        limit = count
        finished = true
        owned = false
    }

    var available: Int { limit - pos }

    mutating func start(_ input: UnsafeBufferPointer<UInt8>) throws(Errno) {
        z.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        z.avail_in = uInt(input.count)
        let rc = inflateInit_(&z, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        if rc != Z_OK {
            window.deallocate()
            throw Errno.fail(ENOMEM, "zlib inflateInit failed (\(rc))")
        }
        started = true
    }

    /// Inflates until at least `want` bytes are buffered or the stream ends.
    mutating func fill(atLeast want: Int) throws(Errno) {
        if available >= want || finished { return }
        if pos > 0 {
            let n = available
            if n > 0 { window.update(from: window + pos, count: n) }
            pos = 0
            limit = n
        }
        while limit < want && !finished {
            z.next_out = window + limit
            z.avail_out = uInt(Inflater.windowSize - limit)
            let rc = inflate(&z, Z_NO_FLUSH)
            limit = Inflater.windowSize - Int(z.avail_out)
            switch rc {
            case Z_STREAM_END: finished = true
            case Z_OK: break
            case Z_BUF_ERROR:
                // No progress possible: the input ended without the stream's end.
                if z.avail_in == 0 { throw Errno.fail(Errno.format, "compressed payload is truncated") }
            default:
                throw Errno.fail(Errno.format, "compressed payload is corrupt (zlib error \(rc))")
            }
            if rc == Z_OK && z.avail_in == 0 && z.avail_out != 0 {
                throw Errno.fail(Errno.format, "compressed payload is truncated")
            }
        }
    }

    mutating func finish() {
        if started { inflateEnd(&z); started = false }
        if owned { window.deallocate() }
    }
}
