import Glibc

/// Reading /proc/self/smaps: the only honest word on whether THP was granted.
enum Smaps {
    /// AnonHugePages (private) or ShmemPmdMapped + FilePmdMapped (shared) of the VMA that
    /// contains `addr`, in bytes; 0 when not found.
    static func hugeBytes(containing addr: UnsafeMutableRawPointer, shared: Bool) -> Int {
        guard let text = try? SysFile.read("/proc/self/smaps", limit: 64 << 20) else { return 0 }
        let target = UInt(bitPattern: addr)
        var inside = false
        var total = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n")) {
            if let (lo, hi) = vmaRange(line) {
                if inside { break }
                inside = lo <= target && target < hi
                continue
            }
            guard inside else { continue }
            let keys: [String] = shared ? ["ShmemPmdMapped:", "FilePmdMapped:"] : ["AnonHugePages:"]
            for k in keys where line.starts(with: k.utf8) {
                total &+= kilobytes(line.dropFirst(k.utf8.count)) &* 1024
            }
        }
        return total
    }

    /// "7f00-7f10 rw-p ..." -> (0x7f00, 0x7f10); nil for field lines.


    static func vmaRange<C: Collection>(_ line: C) -> (UInt, UInt)? where C.Element == UInt8 {
        var lo: UInt = 0, hi: UInt = 0
        var seenDash = false
        var digits = 0
        for c in line {
            let v: UInt
            switch c {
            case 0x30...0x39: v = UInt(c - 0x30)
            case 0x61...0x66: v = UInt(c - 0x61 + 10)
            case UInt8(ascii: "-") where !seenDash && digits > 0:
                seenDash = true; digits = 0; continue
            case UInt8(ascii: " ") where seenDash && digits > 0:
                return (lo, hi)
            default: return nil
            }
            digits += 1
            if digits > 16 { return nil }
            if seenDash { hi = hi << 4 | v } else { lo = lo << 4 | v }
        }
        return nil
    }

    static func kilobytes<C: Collection>(_ s: C) -> Int where C.Element == UInt8 {
        var v = 0
        for c in s {
            if c == UInt8(ascii: " ") { if v > 0 { break } else { continue } }
            guard c >= 0x30 && c <= 0x39 else { break }
            v = v &* 10 &+ Int(c &- 0x30)
        }
        return v
    }
}
