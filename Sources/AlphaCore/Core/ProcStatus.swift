/// The kernel's per-process status file (/proc/self/status, /proc/thread-self/status): the fields
/// the library reads, parsed in one place.
public enum ProcStatus {
    /// Capability bits (linux/capability.h) the library checks.
    public enum Capability: UInt64, Sendable {
        case ipcLock = 14   // CAP_IPC_LOCK: mlock beyond RLIMIT_MEMLOCK
        case sysNice = 23   // CAP_SYS_NICE: raise priority, real-time policies
    }

    /// The trimmed value of `field` ("CapEff", "VmLck") in the text of a status file, or nil.
    public static func field(_ name: String, in status: String) -> String? {
        for line in status.split(separator: "\n") {
            guard line.hasPrefix(name), line.dropFirst(name.utf8.count).first == ":" else { continue }
            return SysFile.trim(line.dropFirst(name.utf8.count + 1))
        }
        return nil
    }

    /// A capability set as the status file writes it (16 hex digits), or nil.
    public static func capabilities(hex: String) -> UInt64? { UInt64(hex, radix: 16) }

    /// The effective capabilities (CapEff) of the process (`thread: false`, /proc/self/status)
    /// or of the calling thread (/proc/thread-self/status); nil if the file cannot be read.
    public static func effectiveCapabilities(thread: Bool) -> UInt64? {
        let path = thread ? "/proc/thread-self/status" : "/proc/self/status"
        guard let status = try? SysFile.read(path), let hex = field("CapEff", in: status) else { return nil }
        return capabilities(hex: hex)
    }

    /// Whether `capability` is in the effective set (false when unknown).
    public static func has(_ capability: Capability, thread: Bool) -> Bool {
        guard let bits = effectiveCapabilities(thread: thread) else { return false }
        return bits & (1 << capability.rawValue) != 0
    }
}
