import Glibc

/// Standard base64 (RFC 4648, '=' padding).
public enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Characters for `count` bytes, padding included.
    public static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Encodes `src` into `o`, which has room for encodedCount(src.count) bytes.
    public static func encode(_ src: UnsafeBufferPointer<UInt8>, into o: UnsafeMutablePointer<UInt8>) {
        guard let s = src.baseAddress else { return }
        alphabet.withUnsafeBufferPointer { abc in
            guard let a = abc.baseAddress else { return }
            var i = 0, j = 0
            let whole = src.count - src.count % 3
            while i < whole {
                let v = UInt32(s[i]) &<< 16 | UInt32(s[i &+ 1]) &<< 8 | UInt32(s[i &+ 2])
                o[j] = a[Int(v &>> 18)]
                o[j &+ 1] = a[Int(v &>> 12 & 63)]
                o[j &+ 2] = a[Int(v &>> 6 & 63)]
                o[j &+ 3] = a[Int(v & 63)]
                i &+= 3
                j &+= 4
            }
            let rest = src.count - whole
            if rest > 0 {
                let v = UInt32(s[i]) &<< 16 | (rest == 2 ? UInt32(s[i &+ 1]) &<< 8 : 0)
                o[j] = a[Int(v &>> 18)]
                o[j &+ 1] = a[Int(v &>> 12 & 63)]
                o[j &+ 2] = rest == 2 ? a[Int(v &>> 6 & 63)] : 61
                o[j &+ 3] = 61
            }
        }
    }

    static let reverse: [UInt8] = {
        var r = [UInt8](repeating: 0xff, count: 256)
        for (k, c) in alphabet.enumerated() { r[Int(c)] = UInt8(k) }
        return r
    }()

    /// Decodes, ignoring leading and trailing whitespace; anything else invalid is EFORMAT.
    public static func decode(_ text: UnsafeBufferPointer<UInt8>) throws(Errno) -> [UInt8] {
        let bytes = try decodeAllocated(text)
        defer { free(bytes.baseAddress) }
        return Array(bytes)
    }

    /// The same into a buffer from malloc (the caller frees its baseAddress): a failed
    /// allocation is ENOMEM, never a trap.
    static func decodeAllocated(_ text: UnsafeBufferPointer<UInt8>) throws(Errno) -> UnsafeMutableBufferPointer<UInt8> {
        var lo = 0, hi = text.count
        func space(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }
        while lo < hi && space(text[lo]) { lo += 1 }
        while hi > lo && space(text[hi - 1]) { hi -= 1 }
        let n = hi - lo
        if n == 0 { throw Errno.fail(Errno.format, "encoded histogram is empty") }
        if n % 4 != 0 { throw Errno.fail(Errno.format, "base64 length \(n) is not a multiple of 4") }
        var pad = 0
        if text[hi - 1] == 61 { pad += 1; if text[hi - 2] == 61 { pad += 1 } }
        let cap = n / 4 * 3
        let out = try allocateBuffer(cap, of: UInt8.self, for: "the decoded base64")
        var bad = -1
        reverse.withUnsafeBufferPointer { rev in
            var i = lo, o = 0
            while i < hi {
                var v: UInt32 = 0
                for k in 0..<4 {
                    let ch = text[i &+ k]
                    let isPad = ch == 61 && i &+ 4 == hi && k >= 4 - pad
                    let d = isPad ? 0 : rev[Int(ch)]
                    if d == 0xff { bad = i &+ k &- lo; return }
                    v = v &<< 6 | UInt32(d)
                }
                out[o] = UInt8(truncatingIfNeeded: v &>> 16)
                out[o &+ 1] = UInt8(truncatingIfNeeded: v &>> 8)
                out[o &+ 2] = UInt8(truncatingIfNeeded: v)
                o &+= 3
                i &+= 4
            }
        }
        if bad >= 0 {
            free(out)
            throw Errno.fail(Errno.format, "invalid base64 character at offset \(bad)")
        }
        return UnsafeMutableBufferPointer(start: out, count: cap - pad)
    }
}
