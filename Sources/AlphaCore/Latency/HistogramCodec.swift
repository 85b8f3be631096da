import CAlphaCoreShims
import CZlib
import Glibc

/// The HdrHistogram V2 compressed wire format, base64-wrapped ("HISTFAAA..."):
///
///     base64( be32 compressedCookie(0x1c849314) | be32 length | zlib( payload ) )
///     payload = be32 encodingCookie(0x1c849313) | be32 payloadLength | be32 normalizingIndexOffset (0)
///             | be32 significantDigits | be64 lowest | be64 highest | be64 double conversionRatio (1.0)
///             | counts as ZigZag LEB128 (at most 9 bytes each), a run of k > 0 zero slots as -k
///
/// The counts cover slots 0 ... index(max), zlib runs at its default level: this is what the
/// `hdrh` Python package and HdrHistogram_c produce, byte for byte. (A lower level is offered
/// for speed; it decodes to the same counts everywhere but is not byte-identical.)
public enum HistogramCodec {
    public static let encodingCookieBase: UInt32 = 0x1c84_9303
    public static let compressedCookieBase: UInt32 = 0x1c84_9304
    static let payloadHeaderSize = 40
    /// Largest base64 text the decoder accepts (128 MiB). The largest valid encoding, every
    /// slot of the largest configuration (1 ... INT64_MAX at 5 digits) at 9 bytes, is about 75 MB.
    public static let maxEncodedLength = 1 << 27

    // MARK: encode

    /// Slots the payload covers: 0 ... index(max). An empty histogram (max 0) still covers slot
    /// 0, a one-byte payload (a run of one empty slot), as HdrHistogram_c and Java write it: a
    /// zero-byte payload is refused by HdrHistogram_c's decoder.
    static func relevantSlots(_ h: Histogram) -> Int {
        Swift.min(h.index(of: Swift.max(h.rawMax, 0)) + 1, h.countsLength)
    }

    /// Writes the uncompressed V2 payload (header + varints) for `relevant` slots into `p`,
    /// which has room for payloadHeaderSize + 9 * relevant bytes; returns its length.
    static func writePayload(_ h: Histogram, relevant: Int, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var n = payloadHeaderSize
        let c = h.counts
        var i = 0
        while i < relevant {
            let v = c[i]
            i &+= 1
            if v == 0 {
                var zeros: Int64 = 1
                while i < relevant && c[i] == 0 { zeros &+= 1; i &+= 1 }
                n &+= putZigZag(p + n, 0 &- zeros)
            } else {
                n &+= putZigZag(p + n, v)
            }
        }
        putBE32(p, encodingCookieBase | 0x10)
        putBE32(p + 4, UInt32(truncatingIfNeeded: n - payloadHeaderSize))
        putBE32(p + 8, 0)
        putBE32(p + 12, UInt32(truncatingIfNeeded: h.digits))
        putBE64(p + 16, UInt64(bitPattern: h.lowest))
        putBE64(p + 24, UInt64(bitPattern: h.highest))
        putBE64(p + 32, (1.0 as Double).bitPattern)
        return n
    }

    /// zlib's default level, the one `hdrh`, HdrHistogram_c and Java use: the only level whose
    /// output is byte-identical to theirs.
    public static let defaultLevel: Int32 = Z_DEFAULT_COMPRESSION

    /// Calls `body` with the compressed, base64-wrapped encoding (ASCII, no NUL), valid only
    /// during the call. `level` is zlib's (-1 = default, 0...9): every level decodes to the same
    /// counts in any HdrHistogram implementation; only the default is byte-identical to theirs.
    /// The scratch (payload, deflate output, text) comes from malloc: ENOMEM, never an abort,
    /// for the largest configurations.
    ///
    /// `capacity` is what the caller can take (the C ABI's cap). When the text does not fit (a
    /// size query: ask, allocate, encode), the result is kept in a one-entry cache keyed by the
    /// level and the uncompressed payload, which is the histogram's whole state: the encode that
    /// follows finds the same payload and copies the kept text instead of compressing again.
    public static func withEncoded<R>(_ h: Histogram, level: Int32 = defaultLevel, capacity: Int = Int.max,
                                      _ body: (UnsafeBufferPointer<UInt8>) throws(Errno) -> R) throws(Errno) -> R {
        if level < -1 || level > 9 { throw Errno.fail(EINVAL, "zlib level \(level) is not -1 ... 9") }
        let relevant = relevantSlots(h)
        let payload = try allocateBuffer(payloadHeaderSize + relevant * 9, of: UInt8.self, for: "the V2 payload")
        defer { free(payload) }
        let n = writePayload(h, relevant: relevant, to: payload)
        let key = UnsafeBufferPointer(start: payload, count: n)
        if let kept = EncodeCache.take(level: level, payload: key) {
            defer { free(kept.entry) }
            return try body(kept.text)
        }
        var bound = compressBound(uLong(n))
        let packed = try allocateBuffer(8 + Int(bound), of: UInt8.self, for: "the compressed V2 payload")
        defer { free(packed) }
        let rc = compress2(packed + 8, &bound, payload, uLong(n), level)
        if rc == Z_MEM_ERROR { throw Errno.fail(ENOMEM, "zlib could not allocate its deflate state") }
        guard rc == Z_OK else { throw Errno.fail(Errno.internal, "zlib compress2 failed (\(rc))") }
        putBE32(packed, compressedCookieBase | 0x10)
        putBE32(packed + 4, UInt32(truncatingIfNeeded: Int(bound)))
        let packedCount = 8 + Int(bound)
        let textCount = Base64.encodedCount(packedCount)
        let text = try allocateBuffer(textCount, of: UInt8.self, for: "the base64 text")
        defer { free(text) }
        Base64.encode(UnsafeBufferPointer(start: packed, count: packedCount), into: text)
        let result = UnsafeBufferPointer(start: text, count: textCount)
        if textCount >= capacity { EncodeCache.keep(level: level, payload: key, text: result) }
        return try body(result)
    }

    /// The same as a new array (for Swift callers; the C ABI writes into the caller's buffer).
    public static func encode(_ h: Histogram, level: Int32 = defaultLevel) throws(Errno) -> [UInt8] {
        try withEncoded(h, level: level) { Array($0) }
    }

    // MARK: helpers

    static func hex(_ v: UInt32) -> String { String(v, radix: 16) }

    @inline(__always) static func putBE32(_ p: UnsafeMutablePointer<UInt8>, _ v: UInt32) {
        p[0] = UInt8(truncatingIfNeeded: v >> 24); p[1] = UInt8(truncatingIfNeeded: v >> 16)
        p[2] = UInt8(truncatingIfNeeded: v >> 8); p[3] = UInt8(truncatingIfNeeded: v)
    }
    @inline(__always) static func putBE64(_ p: UnsafeMutablePointer<UInt8>, _ v: UInt64) {
        putBE32(p, UInt32(truncatingIfNeeded: v >> 32)); putBE32(p + 4, UInt32(truncatingIfNeeded: v))
    }
    @inline(__always) static func getBE32(_ p: UnsafePointer<UInt8>) -> UInt32 {
        UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
    }
    @inline(__always) static func getBE32(_ p: UnsafeMutablePointer<UInt8>) -> UInt32 { getBE32(UnsafePointer(p)) }
    @inline(__always) static func getBE64(_ p: UnsafeMutablePointer<UInt8>) -> UInt64 {
        UInt64(getBE32(p)) << 32 | UInt64(getBE32(p + 4))
    }
    static func getBE32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    /// ZigZag then LEB128 with HdrHistogram's 9-byte cap (the 9th byte carries 8 bits).
    @inline(__always)
    static func putZigZag(_ p: UnsafeMutablePointer<UInt8>, _ signed: Int64) -> Int {
        var v = UInt64(bitPattern: (signed &<< 1) ^ (signed &>> 63))
        var n = 0
        while n < 8 {
            if v < 0x80 { p[n] = UInt8(truncatingIfNeeded: v); return n + 1 }
            p[n] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            n += 1
        }
        p[8] = UInt8(truncatingIfNeeded: v)
        return 9
    }
}

/// The size query's kept result: one entry for the process, swapped atomically (no lock). An
/// entry is one malloc block: level, payload length, text length, the payload, the text.
enum EncodeCache {
    static let headerBytes = 24
    /// Entries above this are not kept (the cache must not pin a huge histogram's text).
    static let maxBytes = 16 << 20

    static func keep(level: Int32, payload: UnsafeBufferPointer<UInt8>, text: UnsafeBufferPointer<UInt8>) {
        let size = headerBytes + payload.count + text.count
        guard size <= maxBytes, let e = malloc(size), let p = payload.baseAddress, let t = text.baseAddress else { return }
        e.storeBytes(of: Int64(level), as: Int64.self)
        e.storeBytes(of: Int64(payload.count), toByteOffset: 8, as: Int64.self)
        e.storeBytes(of: Int64(text.count), toByteOffset: 16, as: Int64.self)
        (e + headerBytes).copyMemory(from: p, byteCount: payload.count)
        (e + headerBytes + payload.count).copyMemory(from: t, byteCount: text.count)
        free(acshim_encode_cache_swap(e))
    }

    /// The kept text for exactly this level and payload (the caller frees `entry`), or nil.
    static func take(level: Int32, payload: UnsafeBufferPointer<UInt8>) -> (entry: UnsafeMutableRawPointer, text: UnsafeBufferPointer<UInt8>)? {
        guard let e = acshim_encode_cache_swap(nil) else { return nil }
        let pn = Int(e.load(fromByteOffset: 8, as: Int64.self))
        if e.load(as: Int64.self) == Int64(level), pn == payload.count, let p = payload.baseAddress,
           memcmp(e + headerBytes, p, pn) == 0 {
            let tn = Int(e.load(fromByteOffset: 16, as: Int64.self))
            let t = (e + headerBytes + pn).assumingMemoryBound(to: UInt8.self)
            return (e, UnsafeBufferPointer(start: t, count: tn))
        }
        // Another histogram's (or another state's): leave it for its own encode.
        if !acshim_encode_cache_restore(e) { free(e) }
        return nil
    }
}
