import CAlphaCoreShims
import Glibc
import Synchronization

/// One CPU as sysfs describes it. Ids the kernel does not show (an offline CPU's topology, a
/// machine without an L3) are -1.
public struct CPUInfo: Sendable, Equatable {
    public let id: Int
    public let online: Bool
    /// In the set this process may run on (`Topology.allowed`).
    public let allowed: Bool
    public let isolated: Bool
    public let nohzFull: Bool
    public let coreID: Int
    public let packageID: Int
    public let dieID: Int
    /// The L3 cache instance (its sysfs `id`, or the first CPU sharing it when `id` is absent).
    public let l3ID: Int
    /// The NUMA node, -1 when unknown (an offline CPU sysfs does not place).
    public let node: Int
    /// The hardware threads of this CPU's core, itself included (empty when unknown).
    public let smtSiblings: CPUSet
}

/// One NUMA node.
public struct NodeInfo: Sendable, Equatable {
    public let id: Int
    public let cpus: CPUSet
    /// MemTotal and MemFree from the node's meminfo at load time, in bytes.
    public let memTotal: UInt64
    public let memFree: UInt64
    /// In /sys/devices/system/node/has_memory (false for a memoryless node).
    public let hasMemory: Bool
    /// Distances to every node of `Topology.nodes`, in the same order (sysfs `distance`).
    public let distances: [Int]
}

/// The machine as this process sees it: read once from sysfs and procfs (below the
/// `SystemRoot` prefix), then cached. `Topology.current` is the cached value;
/// `Topology.reload()` reads again (tests, CPU hotplug, a moved cgroup); `Topology.load(prefix:)`
/// reads a tree without touching the cache.
public struct Topology: Sendable {
    /// The prefix the tree was read from ("" for the real system).
    public let prefix: String
    public let possible: CPUSet
    public let present: CPUSet
    public let online: CPUSet
    /// The CPUs this process may use: affinity mask, cgroup cpuset and online CPUs intersected.
    public let allowed: CPUSet
    /// Where `allowed` came from, in words (for details and `alphacore topology`).
    public let allowedSource: String
    /// The process's affinity mask at load time (the main thread's, /proc/self/status).
    public let affinity: CPUSet
    /// The cgroup cpuset bounding the process, nil when none is visible.
    public let cgroup: CgroupCpuset?
    public let isolated: CPUSet
    public let nohzFull: CPUSet
    /// Indexed by CPU id, 0 through the largest possible id.
    public let cpus: [CPUInfo]
    /// Online nodes in increasing id order (ids may be sparse: 0, 2, 3).
    public let nodes: [NodeInfo]
    /// The ids of `nodes`.
    public let nodeIDs: CPUSet
    /// Nodes with memory.
    public let memoryNodes: CPUSet
    /// The largest possible node id + 1 (sizes NUMA node masks).
    public let nodeIDLimit: Int

    /// The largest CPU id the topology keeps: Linux's NR_CPUS is at most 8192. Ids above it in
    /// a tree (a hostile or broken `possible` of 0-1048575) are ignored, so that a load is
    /// bounded by 8192 CPUs whatever the tree says.
    public static let maxCPUID = 8191
    /// The largest node id the topology keeps (Linux's MAX_NUMNODES is at most 1024).
    public static let maxNodeID = 1023

    /// 64-bit words in a kernel CPU mask for this machine (covers every possible CPU).
    public var maskWords: Int { Swift.max(1, ((possible.last ?? 0) + 64) / 64) }

    public func cpu(_ id: Int) -> CPUInfo? { id >= 0 && id < cpus.count ? cpus[id] : nil }

    public func node(_ id: Int) -> NodeInfo? { nodes.first { $0.id == id } }

    /// The sysfs distance between two nodes, nil if either is unknown.
    public func distance(from: Int, to: Int) -> Int? {
        guard let a = node(from), let j = nodes.firstIndex(where: { $0.id == to }), j < a.distances.count
        else { return nil }
        return a.distances[j]
    }

    // MARK: validation (used by pinning and roles)

    /// Why `cpu` cannot be pinned to, or nil if it can.
    public func problem(cpu: Int) -> Errno? {
        if cpu < 0 { return Errno.fail(EINVAL, "cpu \(cpu) is negative") }
        if !possible.contains(cpu) {
            return Errno.fail(EINVAL, "cpu \(cpu) is past the possible CPUs \(possible.cpulist)")
        }
        if !online.contains(cpu) {
            return Errno.fail(EINVAL, "cpu \(cpu) is offline (online CPUs: \(online.cpulist))")
        }
        if !allowed.contains(cpu) {
            return Errno.fail(EINVAL, "cpu \(cpu) is not in the allowed set \(allowed.cpulist) (\(allowedSource))")
        }
        return nil
    }

    /// Checks a whole set against possible, online and allowed CPUs.
    public func validate(_ set: CPUSet, what: String = "cpulist") throws(Errno) {
        if set.isEmpty { throw Errno.fail(EINVAL, "\(what) is empty") }
        let impossible = set.subtracting(possible)
        if !impossible.isEmpty {
            throw Errno.fail(EINVAL, "\(what) \(set.cpulist): cpus \(impossible.cpulist) are past the possible CPUs \(possible.cpulist)")
        }
        let offline = set.subtracting(online)
        if !offline.isEmpty {
            throw Errno.fail(EINVAL, "\(what) \(set.cpulist): cpus \(offline.cpulist) are offline (online CPUs: \(online.cpulist))")
        }
        let outside = set.subtracting(allowed)
        if !outside.isEmpty {
            throw Errno.fail(EINVAL, "\(what) \(set.cpulist): cpus \(outside.cpulist) are not in the allowed set \(allowed.cpulist) (\(allowedSource))")
        }
    }

    // MARK: the cache

    /// The cached topology, loading it on first use.
    public static var current: Topology {
        get throws(Errno) {
            if let t = cache.withLock({ $0 }) { return t }
            return try reload()
        }
    }

    /// Reads the tree again (below the current `SystemRoot` prefix) and publishes it.
    @discardableResult
    public static func reload() throws(Errno) -> Topology {
        let t = try load(prefix: SystemRoot.prefix)
        publish(t)
        return t
    }

    /// The NUMA node of `cpu` from the published flat table: no lock, no allocation, one
    /// acquire load. Returns the node, or a negative errno (the detail is set on failure).
    @inlinable @inline(__always)
    public static func node(ofCPU cpu: Int32) -> Int32 {
        if let table = FastTable.current {
            let node = table.node(cpu)
            if node >= 0 { return node }
        }
        return nodeSlow(cpu)
    }

    @usableFromInline @inline(never)
    static func nodeSlow(_ cpu: Int32) -> Int32 {
        let t: Topology
        do { t = try current } catch { return error.negated }
        let id = Int(cpu)
        if let info = t.cpu(id), info.node >= 0 { return Int32(info.node) }
        if id < 0 { return Errno.fail(EINVAL, "cpu \(id) is negative").negated }
        if !t.possible.contains(id) {
            return Errno.fail(EINVAL, "cpu \(id) is past the possible CPUs \(t.possible.cpulist)").negated
        }
        return Errno.fail(ENOENT, "cpu \(id) is not placed on any node by sysfs (offline CPUs: \(t.possible.subtracting(t.online).cpulist))").negated
    }

    private static let cache = Mutex<Topology?>(nil)

    static func publish(_ t: Topology) {
        cache.withLock { $0 = t }
        FastTable.publish(t)
    }

    // MARK: loading

    /// Reads a topology from the tree below `prefix` without caching it.
    public static func load(prefix: String) throws(Errno) -> Topology {
        var p = prefix
        while p.hasSuffix("/") { p.removeLast() }
        // Optional files that are absent (nohz_full, an L3 id) must not leave a failure text
        // behind on a successful load.
        let detail = Detail.current
        let t = try Loader(prefix: p).load()
        Detail.set(detail)
        return t
    }
}
