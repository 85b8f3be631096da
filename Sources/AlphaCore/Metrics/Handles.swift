/// The live metrics handles (registries and servers) of the process, so that the C ABI can tell
/// a live handle from a NULL, destroyed or foreign pointer instead of crashing on it. A lookup
/// returns a strong reference: a handle destroyed by another thread during a call stays valid
/// until that call ends.
public enum MetricsHandles {
    nonisolated(unsafe) static var live: [UnsafeRawPointer: AnyObject] = [:]
    static let lock = PThreadMutex()

    /// Registers an object and returns its handle.
    public static func open(_ object: AnyObject) -> UnsafeRawPointer {
        let p = UnsafeRawPointer(Unmanaged.passUnretained(object).toOpaque())
        lock.withLock { live[p] = object }
        return p
    }

    /// Forgets a handle of type T (its object lives on while a caller still holds it). Returns
    /// the object; nil (nothing forgotten) when the handle is not a live T.
    @discardableResult
    public static func close<T: AnyObject>(_ p: UnsafeRawPointer, as _: T.Type) -> T? {
        lock.withLock {
            guard let o = live[p] as? T else { return nil }
            live.removeValue(forKey: p)
            return o
        }
    }

    public static func registry(_ p: UnsafeRawPointer) -> MetricsRegistry? {
        lock.withLock { live[p] as? MetricsRegistry }
    }

    public static func object(_ p: UnsafeRawPointer) -> AnyObject? {
        lock.withLock { live[p] }
    }
}
