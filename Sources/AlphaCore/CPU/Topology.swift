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


/// Small-file reads for the loader, on bytes (Swift's Character-level String processing was
/// most of the load time): a sysfs attribute is at most a page and sysfs returns it in one
/// read, so one open, one read, one close.
enum SysfsValue {
    /// The file's bytes with surrounding whitespace removed, as a String, or nil.
    static func text(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buf -> String? in
            var n = 0
            repeat { n = Glibc.read(fd, buf.baseAddress, buf.count) } while n < 0 && errno == EINTR
            if n < 0 { return nil }
            var lo = 0
            while lo < n && isSpace(buf[lo]) { lo += 1 }
            while n > lo && isSpace(buf[n - 1]) { n -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[lo..<n]), as: UTF8.self)
        }
    }

    static func int(_ path: String) -> Int? { text(path).flatMap { Int($0) } }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }

    /// The lines of a (proc) file as byte slices.
    static func lines(_ text: String) -> [Substring.UTF8View] {
        Substring(text).utf8.split(separator: 0x0A)
    }

    /// Whitespace-separated fields of a line.
    static func fields(_ line: Substring.UTF8View) -> [Substring.UTF8View] {
        line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 })
    }

    static func string(_ bytes: Substring.UTF8View) -> String { String(decoding: bytes, as: UTF8.self) }

    static func hasPrefix(_ line: Substring.UTF8View, _ prefix: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        return line.count >= p.count && zip(line, p).allSatisfy { $0 == $1 }
    }
}

private struct Loader {
    let prefix: String
    let cpuDir: String
    let nodeDir: String

    init(prefix: String) {
        self.prefix = prefix
        cpuDir = prefix + "/sys/devices/system/cpu"
        nodeDir = prefix + "/sys/devices/system/node"
    }

    func list(_ path: String, required: Bool = false) throws(Errno) -> CPUSet? {
        guard let text = SysfsValue.text(path) else {
            if required { throw Errno.fail(ENOENT, "cannot read \(path): the CPU topology is unknown") }
            return nil
        }
        return try CPUSet.parseSysfs(text, what: path)
    }

    func int(_ path: String) -> Int { SysfsValue.int(path) ?? -1 }

    func load() throws(Errno) -> Topology {
        let possible = try list(cpuDir + "/possible", required: true) ?? CPUSet()
        if possible.isEmpty { throw Errno.fail(ENOENT, "\(cpuDir)/possible is empty") }
        let present = try list(cpuDir + "/present") ?? possible
        let online = try list(cpuDir + "/online") ?? possible
        let isolated = try list(cpuDir + "/isolated") ?? CPUSet()
        let nohzFull = try list(cpuDir + "/nohz_full") ?? CPUSet()

        // The affinity mask of the main thread (tid == pid): sched_getaffinity on the real
        // system; a fixture tree gives its own in proc/self/status.
        var affinity: CPUSet?
        var affinityFrom = "sched_getaffinity"
        if prefix.isEmpty {
            let words = Swift.max(1, ((possible.last ?? 0) + 64) / 64)
            var mask = [UInt64](repeating: 0, count: words)
            if acshim_sched_getaffinity(getpid(), words * 8, &mask) == 0 { affinity = CPUSet(words: mask) }
        } else if let status = try? SysFile.read(prefix + "/proc/self/status") {
            affinityFrom = "/proc/self/status"
            for line in SysfsValue.lines(status) where SysfsValue.hasPrefix(line, "Cpus_allowed_list:") {
                let value = SysFile.trim(SysfsValue.string(line.dropFirst(18)))
                affinity = try? CPUSet.parse(value, allowEmpty: true)
            }
        }
        let cgroup = CgroupCpuset.find(prefix: prefix)
        var allowed = online
        var source: [String] = []
        if let cg = cgroup {
            allowed = allowed.intersection(cg.cpus)
            source.append(cg.summary)
        }
        if let a = affinity {
            allowed = allowed.intersection(a)
            source.append("process affinity \(a.cpulist) (\(affinityFrom))")
        }
        source.append("online \(online.cpulist)")

        // Nodes.
        var nodeIDs = try list(nodeDir + "/online") ?? CPUSet()
        if nodeIDs.isEmpty, let names = SysFile.list(nodeDir) {
            nodeIDs = CPUSet(names.compactMap { $0.hasPrefix("node") ? Int($0.dropFirst(4)) : nil })
        }
        let nodePossible = try list(nodeDir + "/possible") ?? nodeIDs
        let hasMemory = try list(nodeDir + "/has_memory")
        var nodes: [NodeInfo] = []
        let count = (possible.last ?? 0) + 1
        var nodeOfCPU = [Int](repeating: -1, count: count)
        if nodeIDs.isEmpty {
            // No NUMA in this kernel: one node 0 holding every CPU.
            nodes.append(NodeInfo(id: 0, cpus: online, memTotal: 0, memFree: 0, hasMemory: true, distances: [10]))
            for c in possible where c < count { nodeOfCPU[c] = 0 }
        } else {
            for n in nodeIDs {
                let dir = nodeDir + "/node\(n)"
                let cpus = try list(dir + "/cpulist") ?? CPUSet()
                for c in cpus where c < count { nodeOfCPU[c] = n }
                var total: UInt64 = 0
                var free: UInt64 = 0
                if let meminfo = SysfsValue.text(dir + "/meminfo") {
                    for line in SysfsValue.lines(meminfo) {
                        // "Node 0 MemTotal:  8388608 kB"
                        let f = SysfsValue.fields(line)
                        guard f.count >= 4, let kb = UInt64(SysfsValue.string(f[3])) else { continue }
                        if f[2].elementsEqual("MemTotal:".utf8) { total = kb &* 1024 }
                        if f[2].elementsEqual("MemFree:".utf8) { free = kb &* 1024 }
                    }
                }
                let distances = (SysfsValue.text(dir + "/distance") ?? "")
                    .utf8.split(separator: 0x20).compactMap { Int(String(decoding: $0, as: UTF8.self)) }
                nodes.append(NodeInfo(id: n, cpus: cpus, memTotal: total, memFree: free,
                                      hasMemory: hasMemory.map { $0.contains(n) } ?? (total > 0),
                                      distances: distances))
            }
        }

        // Per CPU, read once per group and given to every member: a core's siblings and core
        // id, a package's id, a die's id, an L3's id. Offline CPUs have no topology in sysfs.
        var core = [Int](repeating: -1, count: count)
        var package = core, die = core, l3 = core
        var siblings = [CPUSet](repeating: CPUSet(), count: count)
        for id in online where id < count {
            let dir = cpuDir + "/cpu\(id)/topology"
            if siblings[id].isEmpty {
                let group = (try? list(dir + "/thread_siblings_list")).flatMap { $0 } ?? CPUSet([id])
                let coreID = int(dir + "/core_id")
                for c in group.union(CPUSet([id])) where c < count {
                    siblings[c] = group
                    core[c] = coreID
                }
            }
            if package[id] < 0 {
                let pkg = int(dir + "/physical_package_id")
                let group = (try? list(dir + "/package_cpus_list")).flatMap { $0 }
                    ?? (try? list(dir + "/core_siblings_list")).flatMap { $0 } ?? CPUSet([id])
                for c in group.union(CPUSet([id])) where c < count { package[c] = pkg }
            }
            if die[id] < 0 {
                let dieID = int(dir + "/die_id")
                let group = (try? list(dir + "/die_cpus_list")).flatMap { $0 } ?? CPUSet([id])
                for c in group.union(CPUSet([id])) where c < count { die[c] = dieID }
            }
            if l3[id] < 0, let (l3ID, group) = l3Group(cpuDir + "/cpu\(id)/cache") {
                for c in group.union(CPUSet([id])) where c < count { l3[c] = l3ID }
            }
        }
        var cpus: [CPUInfo] = []
        cpus.reserveCapacity(count)
        for id in 0..<count {
            cpus.append(CPUInfo(id: id, online: online.contains(id), allowed: allowed.contains(id),
                                isolated: isolated.contains(id), nohzFull: nohzFull.contains(id),
                                coreID: core[id], packageID: package[id], dieID: die[id], l3ID: l3[id],
                                node: nodeOfCPU[id], smtSiblings: siblings[id]))
        }
        let memoryNodes = hasMemory ?? CPUSet(nodes.filter { $0.hasMemory }.map { $0.id })
        return Topology(prefix: prefix, possible: possible, present: present, online: online,
                        allowed: allowed, allowedSource: source.joined(separator: "; "),
                        affinity: affinity ?? online, cgroup: cgroup, isolated: isolated,
                        nohzFull: nohzFull, cpus: cpus, nodes: nodes, nodeIDs: nodeIDs.isEmpty ? CPUSet([0]) : nodeIDs,
                        memoryNodes: memoryNodes.isEmpty ? CPUSet([0]) : memoryNodes,
                        nodeIDLimit: Swift.max(1, (nodePossible.last ?? 0) + 1, (nodeIDs.last ?? 0) + 1))
    }

    /// A CPU's L3: its id (sysfs `id`, or the first CPU sharing it when `id` is absent) and
    /// the CPUs sharing it. index3 first (the usual place), else any level-3 index.
    func l3Group(_ cacheDir: String) -> (Int, CPUSet)? {
        func read(_ index: String) -> (Int, CPUSet)? {
            let d = cacheDir + "/" + index
            guard int(d + "/level") == 3 else { return nil }
            let shared = (try? list(d + "/shared_cpu_list")).flatMap { $0 } ?? CPUSet()
            let id = int(d + "/id")
            return (id >= 0 ? id : (shared.first ?? -1), shared)
        }
        if let v = read("index3") { return v }
        for name in SysFile.list(cacheDir) ?? [] where name.hasPrefix("index") && name != "index3" {
            if let v = read(name) { return v }
        }
        return nil
    }
}
