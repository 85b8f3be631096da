import CAlphaCoreShims
import Glibc

/// A failure inside AlphaCore: an errno value (positive), or one of the library's own codes
/// (`Errno.format`, `Errno.internal`). AlphaCore throws it with typed throws; the C ABI returns
/// it negated. Creating one with `fail(_:_:)` also records the detail text for the thread.
public struct Errno: Error, Equatable, Hashable, Sendable {
    public let code: Int32

    @inlinable public init(_ code: Int32) { self.code = code }

    /// Malformed input data: text, base64, a wire format (ALPHACORE_EFORMAT).
    public static let format = Errno(20001)
    /// An internal invariant failed (ALPHACORE_EINTERNAL).
    public static let `internal` = Errno(20002)

    /// The value the C ABI returns for this failure.
    @inlinable public var negated: Int32 { 0 &- code }

    /// Records `detail` as the calling thread's last-failure text and returns the error.
    public static func fail(_ code: Int32, _ detail: String) -> Errno {
        Detail.set(detail)
        return Errno(code)
    }

    /// Same, for the library's own codes.
    public static func fail(_ error: Errno, _ detail: String) -> Errno {
        Detail.set(detail)
        return error
    }

    /// The calling thread's errno as an `Errno`, with `detail` recorded.
    public static func fromErrno(_ detail: String) -> Errno {
        let e = errno
        let err = Errno(e == 0 ? EIO : e)
        Detail.set("\(detail): \(err.description)")
        return err
    }
}

extension Errno: CustomStringConvertible {
    /// The text `alphacore_strerror` gives for this code.
    public var description: String { String(cString: ErrorText.describe(negated)) }
}

/// The thread-local last-failure text (the storage is the shim's thread-local buffer, so that
/// the pointer handed to C stays valid and no allocation happens on read).
public enum Detail {
    /// Replaces the calling thread's detail, truncated to fit the buffer on a UTF-8 boundary.
    public static func set(_ text: String) {
        let buf = acshim_detail_buffer()
        let cap = Int(ACSHIM_DETAIL_CAP) - 1
        var n = 0
        for b in text.utf8 {
            if n == cap { break }
            buf[n] = CChar(bitPattern: b)
            n += 1
        }
        if n == cap {
            // Cut mid-sequence? Back off over continuation bytes and the lead byte.
            var back = n
            while back > 0 && (UInt8(bitPattern: buf[back - 1]) & 0xC0) == 0x80 { back -= 1 }
            if back > 0 && UInt8(bitPattern: buf[back - 1]) >= 0xC0 { n = back - 1 }
        }
        buf[n] = 0
    }

    /// The calling thread's detail ("" if none).
    public static var current: String { String(cString: acshim_detail_buffer()) }

    /// The pointer the C ABI returns; valid until the next failure on this thread.
    public static var pointer: UnsafePointer<CChar> { UnsafePointer(acshim_detail_buffer()) }

    /// Clears the detail (tests use this).
    public static func clear() { acshim_detail_buffer()[0] = 0 }
}

/// Texts for `alphacore_strerror`.
public enum ErrorText {
    /// A description of any int: errno either sign, the library's codes, 0, or "unknown error N".
    public static func describe(_ err: Int32) -> UnsafePointer<CChar> {
        if err == 0 { return staticText("success") }
        // Int32.min has no positive counterpart: treat its magnitude without negating.
        let code: Int32 = err < 0 ? (err == Int32.min ? Int32.max : 0 &- err) : err
        switch code {
        case Errno.format.code: return staticText("malformed input data")
        case Errno.internal.code: return staticText("internal error in libalphacore")
        default: break
        }
        if code < 4096, let text = acshim_strerrordesc(code) { return text }
        // Unknown: format into the thread-local buffer without allocating.
        let buf = acshim_errtext_buffer()
        var i = 0
        for b in "unknown error ".utf8 { buf[i] = CChar(bitPattern: b); i += 1 }
        var magnitude = Int64(err).magnitude
        if err < 0 { buf[i] = 0x2D; i += 1 }
        let first = i
        repeat { buf[i] = CChar(0x30 + Int(magnitude % 10)); i += 1; magnitude /= 10 } while magnitude > 0
        buf[i] = 0
        var lo = first, hi = i - 1
        while lo < hi { let t = buf[lo]; buf[lo] = buf[hi]; buf[hi] = t; lo += 1; hi -= 1 }
        return UnsafePointer(buf)
    }

    private static func staticText(_ s: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
