// Shared plumbing for the C exports: options structs, caller buffers, error mapping.
// No capability logic lives here.
import AlphaCore
import Glibc

/// Maps a throwing AlphaCore call to the C convention: the value on success, -errno on failure.
@inline(__always)
func cResult(_ body: () throws(Errno) -> Int32) -> Int32 {
    do { return try body() } catch { return error.negated }
}

/// Same for calls that return a count or length (ssize_t-like).
@inline(__always)
func cResult(_ body: () throws(Errno) -> Int) -> Int {
    do { return try body() } catch { return Int(error.negated) }
}

/// Reads an extensible options struct (CONVENTIONS.md rule 5): its first field is
/// `uint32_t struct_size`. Copies `min(struct_size, MemoryLayout<T>.size)` bytes over `defaults`
/// (so an older, shorter struct keeps the defaults for the fields it lacks) and rejects a
/// non-zero tail beyond what this library knows with E2BIG. NULL gives the defaults.
/// Reserved words inside T are checked by the caller.
func readOptions<T>(_ raw: UnsafeRawPointer?, defaults: T, name: StaticString) throws(Errno) -> T {
    guard let raw else { return defaults }
    let declared = Int(raw.loadUnaligned(as: UInt32.self))
    let known = MemoryLayout<T>.size
    if declared < MemoryLayout<UInt32>.size {
        throw Errno.fail(EINVAL, "\(name).struct_size is \(declared); set it to sizeof(\(name)) = \(known)")
    }
    if declared > 1 << 16 {
        throw Errno.fail(EINVAL, "\(name).struct_size is \(declared), larger than any version of the struct")
    }
    if declared > known {
        for offset in known..<declared where raw.load(fromByteOffset: offset, as: UInt8.self) != 0 {
            throw Errno.fail(E2BIG, "\(name) has non-zero bytes at offset \(offset), beyond the \(known) bytes this library knows")
        }
    }
    var value = defaults
    withUnsafeMutableBytes(of: &value) { dst in
        dst.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: min(declared, known)))
    }
    return value
}

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

/// Reads a NUL-terminated string argument, rejecting NULL and strings longer than `limit`.
func readCString(_ p: UnsafePointer<CChar>?, limit: Int = 1 << 20, what: StaticString) throws(Errno) -> String {
    guard let p else { throw Errno.fail(EINVAL, "\(what) is NULL") }
    let n = strnlen(p, limit + 1)
    if n > limit { throw Errno.fail(EINVAL, "\(what) is longer than \(limit) bytes") }
    return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
}

/// Moves a Swift value into library-owned heap storage and returns it as an opaque C handle
/// (for handles whose value is a Swift struct; hot-path handles have layouts of their own).
func makeHandle<T>(_ value: T) -> OpaquePointer {
    let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
    p.initialize(to: value)
    return OpaquePointer(p)
}

/// Destroys a handle made by `makeHandle` with the same T. NULL is fine.
func destroyHandle<T>(_ handle: OpaquePointer?, as _: T.Type) {
    guard let handle else { return }
    let p = UnsafeMutablePointer<T>(handle)
    p.deinitialize(count: 1)
    p.deallocate()
}
