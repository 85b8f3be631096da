import CLibNuma
import Glibc

/// NUMA memory policy through libnuma's thin syscall wrappers only (numaif.h: set_mempolicy,
/// mbind, get_mempolicy, move_pages): nothing that prints, exits or re-binds CPUs.
/// Node masks are sized from /sys/devices/system/node/possible (`Topology.nodeIDLimit`).
public enum NUMA {
    /// Whether memory policy can be used here.
    public enum Status: Int32, Sendable {
        /// The kernel has no NUMA system calls (ENOSYS: CONFIG_NUMA off, or a seccomp filter).
        case unavailable = 0
        /// The system calls are refused (EPERM: Docker's default seccomp profile, for one).
        case denied = 1
        /// The calls work and there is one node with memory: policies are accepted, moot.
        case singleNode = 2
        /// The calls work and two or more nodes have memory.
        case available = 3
    }

    /// Probes `get_mempolicy` (one system call, every time: a seccomp filter may arrive later)
    /// and counts the nodes with memory.
    public static var status: Status {
        var mode: Int32 = 0
        if get_mempolicy(&mode, nil, 0, nil, 0) != 0 {
            return errno == EPERM || errno == EACCES ? .denied : .unavailable
        }
        let nodes = (try? Topology.current.memoryNodes.count) ?? 1
        return nodes > 1 ? .available : .singleNode
    }

    /// Policies (the kernel's MPOL_* values).
    public enum Mode: Int32, Sendable {
        /// Back to the default (the thread's policy for a range, the system's for a thread).
        case `default` = 0
        /// Prefer one node; fall back to others when it is full.
        case preferred = 1
        /// Only these nodes; fail (or reclaim, or OOM) when they are full.
        case bind = 2
        /// Round-robin pages over these nodes.
        case interleave = 3
        /// The node of the CPU that first touches the page.
        case local = 4

        var name: String {
            switch self {
            case .default: "default"
            case .preferred: "preferred"
            case .bind: "bind"
            case .interleave: "interleave"
            case .local: "local"
            }
        }
    }

    /// Sets the calling thread's memory policy (`set_mempolicy`). `nodes` must be empty for
    /// `.default` and `.local`, one node for `.preferred`, and nodes with memory otherwise.
    public static func setThreadPolicy(_ mode: Mode, nodes: CPUSet = CPUSet()) throws(Errno) {
        let t = try Topology.current
        try check(mode, nodes, t)
        var mask = nodes.words(count: maskWords(t)).map { UInt($0) }
        let result = SystemCall.valueOrErrno {
            nodes.isEmpty ? set_mempolicy(mode.rawValue, nil, 0)
                          : set_mempolicy(mode.rawValue, &mask, UInt(mask.count * 64 + 1))
        }
        if case .failure(let e) = result {
            throw failure("set_mempolicy(\(mode.name), nodes \(nodes.cpulist.isEmpty ? "none" : nodes.cpulist))", e)
        }
    }

    /// The calling thread's memory policy and its nodes (`get_mempolicy`).
    public static func threadPolicy() throws(Errno) -> (mode: Mode, nodes: CPUSet) {
        let t = try Topology.current
        var mask = [UInt](repeating: 0, count: maskWords(t))
        var mode: Int32 = 0
        if case .failure(let e) = SystemCall.valueOrErrno({ get_mempolicy(&mode, &mask, UInt(mask.count * 64 + 1), nil, 0) }) {
            throw failure("get_mempolicy", e)
        }
        // Mode flags (MPOL_F_STATIC_NODES...) live in the high bits.
        let base = mode & 0xFF
        guard let m = Mode(rawValue: base) else {
            throw Errno.fail(EOPNOTSUPP, "the thread's memory policy is mode \(base), which this library does not name")
        }
        return (m, CPUSet(words: mask.map { UInt64($0) }))
    }

    /// Sets the policy of an address range (`mbind`). `range` must start on a page boundary.
    /// `strict`: fail with EIO if pages already there are elsewhere and cannot be moved
    /// (MPOL_MF_STRICT | MPOL_MF_MOVE); without it, existing pages are left where they are.
    public static func bind(range: UnsafeMutableRawBufferPointer, nodes: CPUSet, mode: Mode,
                            strict: Bool = false) throws(Errno) {
        guard let start = range.baseAddress, range.count > 0 else {
            throw Errno.fail(EINVAL, "the range is empty")
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        if Int(bitPattern: start) % page != 0 {
            throw Errno.fail(EINVAL, "the range starts at \(start), not on a \(page)-byte page boundary")
        }
        let t = try Topology.current
        try check(mode, nodes, t)
        var mask = nodes.words(count: maskWords(t)).map { UInt($0) }
        let flags: UInt32 = strict ? UInt32(MPOL_MF_STRICT | MPOL_MF_MOVE) : 0
        let result = SystemCall.valueOrErrno {
            nodes.isEmpty ? mbind(start, UInt(range.count), mode.rawValue, nil, 0, flags)
                          : mbind(start, UInt(range.count), mode.rawValue, &mask, UInt(mask.count * 64 + 1), flags)
        }
        if case .failure(let e) = result {
            if e.code == EIO {
                throw Errno.fail(EIO, "mbind(\(mode.name), nodes \(nodes.cpulist)) with strict: some pages of the range are on other nodes and could not be moved")
            }
            throw failure("mbind(\(mode.name), nodes \(nodes.cpulist.isEmpty ? "none" : nodes.cpulist), \(range.count) bytes at \(start))", e)
        }
    }

    /// The node that holds the page at `address` now (`move_pages` without moving: it does not
    /// fault the page in). ENOENT for a page never touched, EFAULT for an unmapped address.
    public static func nodeOf(address: UnsafeRawPointer) throws(Errno) -> Int {
        var page: UnsafeMutableRawPointer? = UnsafeMutableRawPointer(mutating: address)
        var status: Int32 = 0
        if case .failure(let e) = SystemCall.valueOrErrno({ move_pages(0, 1, &page, nil, &status, 0) }) {
            throw failure("move_pages", e)
        }
        if status >= 0 { return Int(status) }
        let code = 0 &- status
        switch code {
        case ENOENT: throw Errno.fail(ENOENT, "the page at \(address) is not present (never touched, or swapped out)")
        case EFAULT: throw Errno.fail(EFAULT, "\(address) is not a mapped address")
        default: throw Errno.fail(code, "move_pages reports \(Errno(code)) for the page at \(address)")
        }
    }

    /// The nodes of many pages at once (`move_pages` without moving): `status[i]` receives the
    /// node of `pages[i]`, or a negative errno for that page (-ENOENT not present, -EFAULT).
    public static func nodesOf(pages: UnsafeBufferPointer<UnsafeRawPointer?>,
                               status: UnsafeMutableBufferPointer<Int32>) throws(Errno) {
        guard status.count >= pages.count else {
            throw Errno.fail(EINVAL, "\(pages.count) pages but room for \(status.count) results")
        }
        guard let p = pages.baseAddress, let s = status.baseAddress, pages.count > 0 else { return }
        let raw = UnsafeMutableRawPointer(mutating: p).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        if case .failure(let e) = SystemCall.valueOrErrno({ move_pages(0, UInt(pages.count), raw, nil, s, 0) }) {
            throw failure("move_pages", e)
        }
    }

    // MARK: helpers

    static func maskWords(_ t: Topology) -> Int { Swift.max(1, (t.nodeIDLimit + 63) / 64) }

    static func check(_ mode: Mode, _ nodes: CPUSet, _ t: Topology) throws(Errno) {
        switch mode {
        case .default, .local:
            if !nodes.isEmpty {
                throw Errno.fail(EINVAL, "policy \(mode.name) takes no nodes (given \(nodes.cpulist))")
            }
            return
        case .preferred:
            if nodes.count != 1 {
                throw Errno.fail(EINVAL, "policy preferred takes exactly one node (given \"\(nodes.cpulist)\")")
            }
        case .bind, .interleave:
            if nodes.isEmpty { throw Errno.fail(EINVAL, "policy \(mode.name) needs at least one node") }
        }
        let unknown = nodes.subtracting(t.nodeIDs)
        if !unknown.isEmpty {
            throw Errno.fail(EINVAL, "nodes \(unknown.cpulist) do not exist (online nodes: \(t.nodeIDs.cpulist))")
        }
        if nodes.isDisjoint(with: t.memoryNodes) {
            throw Errno.fail(EINVAL, "nodes \(nodes.cpulist) have no memory (nodes with memory: \(t.memoryNodes.cpulist))")
        }
    }

    /// The error for a failed numaif call, with the reason in words.
    static func failure(_ call: String, _ error: Errno) -> Errno {
        let e = error.code
        switch e {
        case ENOSYS:
            return Errno.fail(ENOSYS, "\(call): the kernel has no NUMA system calls here (ENOSYS: CONFIG_NUMA off, or a seccomp filter)")
        case EPERM:
            return Errno.fail(EPERM, "\(call): NUMA system calls are denied (EPERM: a seccomp filter such as Docker's default profile, or a missing CAP_SYS_NICE)")
        case EINVAL:
            return Errno.fail(EINVAL, "\(call): the kernel refused it (EINVAL: nodes outside this process's cpuset.mems, or an unsupported mode)")
        default:
            return Errno.fail(e, "\(call): \(error)")
        }
    }
}
