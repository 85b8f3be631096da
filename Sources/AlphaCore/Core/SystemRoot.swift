import Glibc

/// Where /sys and /proc are read from. Tests point it at fixture trees: the environment variable
/// ALPHACORE_SYSROOT (consulted on each call) or `SystemRoot.set(_:)`, which takes precedence. The prefix is joined in
/// front of absolute paths such as "/sys/devices/system/cpu/possible".
public enum SystemRoot {
    /// The current prefix ("" for the real system).
    public static var prefix: String {
        lock.withLock {
            if let p = overridePrefix { return p }
            if let env = getenv("ALPHACORE_SYSROOT") {
                var s = String(cString: env)
                while s.hasSuffix("/") { s.removeLast() }
                return s
            }
            return ""
        }
    }

    /// Sets (or with nil, clears) the prefix for the whole process. Fixture trees only.
    public static func set(_ newPrefix: String?) {
        lock.withLock {
            if var p = newPrefix {
                while p.hasSuffix("/") { p.removeLast() }
                overridePrefix = p
            } else {
                overridePrefix = nil
            }
        }
    }

    /// `prefix + path`.
    public static func path(_ absolute: String) -> String { prefix + absolute }

    nonisolated(unsafe) private static var overridePrefix: String?
    private static let lock = PThreadMutex()
}
