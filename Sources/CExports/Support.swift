// The C-boundary kit: how every export turns AlphaCore's `throws(Errno)` into the C convention.
// No capability logic lives here. docs/ARCHITECTURE.md ("The C boundary kit") says how an export is written:
//
//   @c @implementation
//   public func alphacore_x(_ a: Int32, _ out: UnsafeMutablePointer<T>?) -> Int32 {
//       cStatus { () throws(Errno) in
//           guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
//           ...
//           return 0
//       }
//   }
//
// - `cStatus` (0 or a small non-negative int, or -errno) and `cCount` (a length or count of any
//   signed width, clamped; or -errno) are the only two wrappers (`cCreate` is `cStatus` for an
//   export that returns a new handle through `out`). Both save the caller's errno and
//   restore it on return: the header promises that the library never changes errno.
// - Hot paths (record, claim/commit) take no wrapper; their failure branch calls `coldFailure`,
//   which is out of line and keeps errno too. Their success path must make no libc call.
// - `requireZero` checks reserved words; `readVersioned` / `writeVersioned` are the one reading
//   of an options struct and the one writing of an output struct (CONVENTIONS.md rule 5).
import AlphaCore
import CAlphaCoreABI
import Glibc

// MARK: the two wrappers

/// Runs `body` and returns its value, or -errno of what it threw. The caller's errno is kept.
@inline(__always)
func cStatus(_ body: () throws(Errno) -> Int32) -> Int32 {
    let saved = errno
    defer { errno = saved }
    do { return try body() } catch { return error.negated }
}

/// Same for a length or count (ssize_t-like), clamped into the export's return type.
@inline(__always)
func cCount<R: FixedWidthInteger & SignedInteger>(_ body: () throws(Errno) -> Int) -> R {
    let saved = errno
    defer { errno = saved }
    do { return R(clamping: try body()) } catch { return R(error.negated) }
}

/// For the exports that create a handle: `out` must not be NULL (EINVAL) and is set to NULL
/// before `make` runs, so that a failure leaves NULL; on success it holds what `make` returned.
@inline(__always)
func cCreate(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ make: () throws(Errno) -> OpaquePointer) -> Int32 {
    cStatus { () throws(Errno) in
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        out.pointee = nil   // a failure leaves NULL
        out.pointee = try make()
        return 0
    }
}

/// For the exports that return nothing (destroy, free): runs `body` with the caller's errno kept.
@inline(__always)
func keepingErrno(_ body: () -> Void) {
    let saved = errno
    body()
    errno = saved
}

// MARK: the hot paths' failure

/// Records `detail` and returns -code, out of line so that the hot function stays a handful of
/// instructions; errno is kept. Use it behind `_slowPath` / the failure branch of a fast check.
@inline(never)
func coldFailure<R: FixedWidthInteger & SignedInteger>(_ code: Int32, _ detail: @autoclosure () -> String) -> R {
    let saved = errno
    Detail.set(detail())
    errno = saved
    return R(0 - code)
}

/// `coldFailure` for a NULL argument (EINVAL).
@inline(never)
func nullArgument<R: FixedWidthInteger & SignedInteger>(_ what: StaticString) -> R {
    coldFailure(EINVAL, "\(what) is NULL")
}

// MARK: reserved words

/// Throws EINVAL unless every byte of `value` (a reserved word or a tuple of them) is zero.
@inline(__always)
func requireZero<T>(_ value: T, _ what: StaticString) throws(Errno) {
    let zero = withUnsafeBytes(of: value) { raw in raw.allSatisfy { $0 == 0 } }
    if !zero { throw Errno.fail(EINVAL, "\(what) must be 0") }
}

// MARK: versioned structs

/// A caller's struct whose first field is `uint32_t struct_size`.
protocol VersionedStruct {
    /// The C name, for details.
    static var cName: StaticString { get }
    /// The size of the first published version of the struct (libalphacore 0.1). A later version
    /// that grows the struct keeps this value: callers built against the old header still work.
    static var firstVersionSize: Int { get }
}

extension VersionedStruct {
    static var firstVersionSize: Int { MemoryLayout<Self>.size }
}

/// The largest struct_size any future version could have; above it is a garbage size.
private let maxStructSize = 1 << 16

/// Reads an options struct (CONVENTIONS.md rule 5). The one rule:
/// - NULL gives `defaults`;
/// - struct_size below the first published version's size, or above 64 KiB: EINVAL;
/// - struct_size larger than this library's struct: E2BIG unless the unknown tail is all zero;
/// - otherwise `min(struct_size, sizeof)` bytes are read over `defaults` (a struct of a later,
///   longer version keeps what this library knows; one of an earlier version that this library
///   still accepts keeps the defaults for the fields it lacks).
/// Reserved words inside T are the caller's to check, with `requireZero`.
func readVersioned<T: VersionedStruct>(_ p: UnsafePointer<T>?, defaults: T) throws(Errno) -> T {
    guard let p else { return defaults }
    let raw = UnsafeRawPointer(p)
    let declared = Int(raw.loadUnaligned(as: UInt32.self))
    let known = MemoryLayout<T>.size
    if declared < T.firstVersionSize || declared > maxStructSize {
        throw Errno.fail(EINVAL, "\(T.cName).struct_size is \(declared); set it to sizeof(\(T.cName)) = \(known)")
    }
    if declared > known {
        for offset in known..<declared where raw.load(fromByteOffset: offset, as: UInt8.self) != 0 {
            throw Errno.fail(E2BIG, "\(T.cName) has non-zero bytes at offset \(offset), beyond the \(known) bytes this library knows")
        }
    }
    var value = defaults
    withUnsafeMutableBytes(of: &value) { dst in
        dst.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: min(declared, known)))
    }
    return value
}

/// The smallest struct_size an output struct may declare: the size word and one field.
private let minOutputSize = 8

/// Writes `value` into a caller's output struct (its `struct_size` set by the caller). The one
/// rule: NULL or struct_size below 8 is EINVAL; `min(struct_size, sizeof)` bytes are written
/// (an older, shorter struct gets its own fields, a newer, longer one keeps its tail) and the
/// caller's struct_size is left as it was.
func writeVersioned<T: VersionedStruct>(_ value: T, to p: UnsafeMutablePointer<T>?) throws(Errno) {
    let declared = try checkVersioned(p)
    guard let p else { return }
    let out = UnsafeMutableRawPointer(p)
    let n = min(declared, MemoryLayout<T>.size)
    withUnsafeBytes(of: value) { src in
        let header = MemoryLayout<UInt32>.size
        out.advanced(by: header).copyMemory(from: src.baseAddress.unsafelyUnwrapped.advanced(by: header),
                                            byteCount: n - header)
    }
}

/// The check `writeVersioned` makes, for an export that must refuse a bad output struct before
/// it consumes anything: NULL or struct_size below 8 is EINVAL. Returns the declared size.
@discardableResult
func checkVersioned<T: VersionedStruct>(_ p: UnsafeMutablePointer<T>?) throws(Errno) -> Int {
    guard let p else { throw Errno.fail(EINVAL, "the \(T.cName) pointer is NULL") }
    let declared = Int(UnsafeRawPointer(p).loadUnaligned(as: UInt32.self))
    if declared < minOutputSize {
        throw Errno.fail(EINVAL, "\(T.cName).struct_size is \(declared); set it to sizeof(\(T.cName))")
    }
    return declared
}

// MARK: caller buffers and strings

/// Writes `bytes` as a NUL-terminated string into a caller buffer, snprintf-style: returns the
/// length the full string needs (without the NUL); writes at most cap-1 bytes plus the NUL when
/// cap > 0. A NULL buffer is allowed only with cap == 0 (a size query); otherwise EINVAL.
func writeCString<C: Collection>(_ bytes: C, to buf: UnsafeMutablePointer<CChar>?, capacity cap: Int) throws(Errno) -> Int
where C.Element == UInt8 {
    if cap < 0 { throw Errno.fail(EINVAL, "buffer capacity is negative") }
    guard let buf else {
        if cap == 0 { return bytes.count }
        throw Errno.fail(EINVAL, "buffer is NULL but its capacity is \(cap)")
    }
    if cap == 0 { return bytes.count }
    let copied: Int? = bytes.withContiguousStorageIfAvailable { src in
        let n = Swift.min(src.count, cap - 1)
        if n > 0, let s = src.baseAddress { memcpy(buf, s, n) }
        buf[n] = 0
        return n
    }
    if copied != nil { return bytes.count }
    var i = 0
    for b in bytes {
        if i == cap - 1 { break }
        buf[i] = CChar(bitPattern: b)
        i += 1
    }
    buf[i] = 0
    return bytes.count
}

/// `writeCString` for a Swift string.
@inline(__always)
func writeText(_ text: String, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) throws(Errno) -> Int {
    try writeCString(text.utf8, to: buf, capacity: cap)
}

/// Reads a NUL-terminated string argument of at most `limit` bytes (the maximum the header
/// documents). It looks at no more than limit + 1 bytes, so a string without a NUL in that span
/// is refused with `tooLong` (E2BIG or EINVAL, as the function's page says) and is never read
/// past. NULL is EINVAL.
func readCString(_ p: UnsafePointer<CChar>?, limit: Int, what: StaticString, tooLong: Int32 = EINVAL) throws(Errno) -> String {
    guard let p else { throw Errno.fail(EINVAL, "\(what) is NULL") }
    let n = strnlen(p, limit + 1)
    if n > limit { throw Errno.fail(tooLong, "\(what) is longer than \(limit) bytes") }
    return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
}

// MARK: handles

/// Moves a Swift value into library-owned heap storage and returns it as an opaque C handle
/// (for handles whose value is a Swift struct; hot-path handles have layouts of their own).
func makeHandle<T>(_ value: T) -> OpaquePointer {
    let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
    p.initialize(to: value)
    return OpaquePointer(p)
}

/// Destroys a handle made by `makeHandle` with the same T. NULL is fine. errno is kept (free
/// may not change it, but the promise is the library's, not glibc's).
func destroyHandle<T>(_ handle: OpaquePointer?, as _: T.Type) {
    guard let handle else { return }
    keepingErrno {
        let p = UnsafeMutablePointer<T>(handle)
        p.deinitialize(count: 1)
        p.deallocate()
    }
}
