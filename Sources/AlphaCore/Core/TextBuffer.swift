import Glibc

/// A growable byte buffer with printf-style formatting (no Foundation).
public struct TextBuffer {
    public var bytes: [UInt8] = []
    public init() {}

    public mutating func format(_ fmt: String, _ args: CVarArg...) {
        var tmp = [CChar](repeating: 0, count: 256)
        let n = withVaList(args) { va in vsnprintf(&tmp, tmp.count, fmt, va) }
        if n < 0 { return }
        if Int(n) >= tmp.count {
            tmp = [CChar](repeating: 0, count: Int(n) + 1)
            _ = withVaList(args) { va in vsnprintf(&tmp, tmp.count, fmt, va) }
        }
        for k in 0..<Int(n) { bytes.append(UInt8(bitPattern: tmp[k])) }
    }

    public mutating func append(_ s: String) { bytes.append(contentsOf: s.utf8) }
    public mutating func append(bytes b: [UInt8]) { bytes.append(contentsOf: b) }
}
