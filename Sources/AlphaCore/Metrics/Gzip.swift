import CZlib
import Glibc

/// gzip (RFC 1952) of a scrape body, for `Accept-Encoding: gzip`.
enum Gzip {
    static func compress(_ input: [UInt8], level: Int32 = 1) -> [UInt8]? {
        var z = z_stream()
        let rc = deflateInit2_(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                               Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { return nil }
        defer { deflateEnd(&z) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&z, uLong(input.count))) + 32)
        let produced: Int? = input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                z.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                z.avail_in = uInt(src.count)
                z.next_out = dst.baseAddress
                z.avail_out = uInt(dst.count)
                return deflate(&z, Z_FINISH) == Z_STREAM_END ? dst.count - Int(z.avail_out) : nil
            }
        }
        guard let n = produced else { return nil }
        out.removeLast(out.count - n)
        return out
    }
}
