import Glibc

/// A plain pthread running a closure, for the tools built on AlphaCore (the doctor's probes,
/// the load test): the caller joins it with pthread_join.
public enum PThread {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    /// Starts `body` on a new thread; nil if pthread_create failed.
    public static func start(_ body: @escaping () -> Void) -> pthread_t? {
        var t = pthread_t()
        let ctx = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&t, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, ctx)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(ctx).release()
            return nil
        }
        return t
    }
}
