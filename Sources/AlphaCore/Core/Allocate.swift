import Glibc

/// malloc for sizes that callers or their data decide: a failure is ENOMEM with a detail, never
/// a trap (a Swift Array aborts the process when its allocation fails). Free with `free()`.
public func allocateBytes(_ count: Int, for what: StaticString) throws(Errno) -> UnsafeMutableRawPointer {
    guard count >= 0, let p = malloc(Swift.max(count, 1)) else {
        throw Errno.fail(ENOMEM, "cannot allocate \(count) bytes for \(what)")
    }
    return p
}

/// The same, typed: room for `count` values of T.
public func allocateBuffer<T>(_ count: Int, of _: T.Type, for what: StaticString) throws(Errno) -> UnsafeMutablePointer<T> {
    let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
    if overflow { throw Errno.fail(ENOMEM, "cannot allocate \(count) values for \(what)") }
    return try allocateBytes(bytes, for: what).bindMemory(to: T.self, capacity: count)
}
