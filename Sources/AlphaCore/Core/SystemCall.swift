import Glibc

/// One way to make a system call (swift-system's `valueOrErrno`): the call's value, or the errno
/// it left, read once, right after the call; EINTR is retried. Use it instead of reading `errno`
/// by hand after a libc call.
public enum SystemCall {
    /// Runs `call` (a libc wrapper that returns -1 and sets errno on failure) again while it fails
    /// with EINTR. The value, or the errno as an `Errno` (no detail recorded: add one with
    /// `Errno.fail` when the caller knows what the failure means).
    @inlinable
    public static func valueOrErrno<T: FixedWidthInteger & SignedInteger>(_ call: () -> T) -> Result<T, Errno> {
        while true {
            let value = call()
            if value != -1 { return .success(value) }
            let e = errno
            if e != EINTR { return .failure(Errno(e == 0 ? EIO : e)) }
        }
    }

    /// The same without the EINTR retry, for waits that a signal must end (a poll's wait):
    /// EINTR comes back as a failure like any other errno.
    @inlinable
    public static func valueOrErrnoOnce<T: FixedWidthInteger & SignedInteger>(_ call: () -> T) -> Result<T, Errno> {
        let value = call()
        if value != -1 { return .success(value) }
        let e = errno
        return .failure(Errno(e == 0 ? EIO : e))
    }

    /// The same, throwing: the errno with the detail "`what`: <strerror>".
    @inlinable
    @discardableResult
    public static func check<T: FixedWidthInteger & SignedInteger>(_ what: @autoclosure () -> String,
                                                                     _ call: () -> T) throws(Errno) -> T {
        switch valueOrErrno(call) {
        case .success(let value): return value
        case .failure(let e): throw Errno.fail(e.code, "\(what()): \(e.description)")
        }
    }

    /// Writes all of `bytes` to `fd`: short writes are continued and EINTR retried.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        guard let base = bytes.baseAddress else { return }
        var off = 0
        while off < bytes.count {
            let n = try check("write of \(bytes.count - off) bytes to fd \(fd)") { Glibc.write(fd, base + off, bytes.count - off) }
            if n == 0 { throw Errno.fail(EIO, "write to fd \(fd) wrote nothing") }
            off += n
        }
    }

    /// `writeAll` for a string's UTF-8 bytes.
    public static func writeAll(_ fd: Int32, _ text: String) throws(Errno) {
        var text = text
        var failure: Errno?
        text.withUTF8 { buf in
            do throws(Errno) { try writeAll(fd, UnsafeRawBufferPointer(buf)) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

/// Rounding sizes up, with overflow reported instead of trapped.
public enum RoundUp {
    /// `value` rounded up to a multiple of `unit` (> 0), or nil if that overflows Int.
    @inlinable
    public static func multiple(_ value: Int, of unit: Int) -> Int? {
        guard unit > 0, value >= 0 else { return nil }
        let (sum, overflow) = value.addingReportingOverflow(unit - 1)
        return overflow ? nil : sum / unit * unit
    }

    /// The smallest power of two >= `value` (1 for values <= 1), or nil past 2^62.
    @inlinable
    public static func powerOfTwo(_ value: Int) -> Int? {
        if value <= 1 { return 1 }
        if value > 1 << 62 { return nil }
        return 1 << (Int.bitWidth - (value - 1).leadingZeroBitCount)
    }
}
