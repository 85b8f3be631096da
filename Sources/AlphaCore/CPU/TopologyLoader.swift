// Reading a topology from sysfs and procfs (below a prefix): the loader behind
// `Topology.load(prefix:)`, and its small-file helpers.
import CAlphaCoreShims
import Glibc

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
            guard case .success(var n) = SystemCall.valueOrErrno({ Glibc.read(fd, buf.baseAddress, buf.count) }) else { return nil }
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

struct Loader {
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

    /// A CPU list file clipped to the ids the topology keeps (0...Topology.maxCPUID).
    func cpuList(_ path: String, required: Bool = false) throws(Errno) -> CPUSet? {
        try list(path, required: required).map { $0.intersection(Loader.keptIDs) }
    }

    static let keptIDs = CPUSet(range: 0..<(Topology.maxCPUID + 1))

    /// A node list clipped to Linux's MAX_NUMNODES (1024).
    func nodeList(_ path: String) throws(Errno) -> CPUSet? {
        try list(path).map { $0.intersection(Loader.keptNodeIDs) }
    }

    static let keptNodeIDs = CPUSet(range: 0..<(Topology.maxNodeID + 1))

    /// The CPUs that have a `cpuN` directory, from one listing of the CPU directory: the only
    /// CPUs whose per-CPU files are worth opening (a possible CPU without one is not present).
    func cpuDirectories() -> CPUSet {
        var ids: [Int] = []
        for name in SysFile.list(cpuDir) ?? [] where name.hasPrefix("cpu") {
            let digits = name.utf8.dropFirst(3)
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let id = Int(String(decoding: digits, as: UTF8.self)), id <= Topology.maxCPUID else { continue }
            ids.append(id)
        }
        return CPUSet(ids)
    }

    func int(_ path: String) -> Int { SysfsValue.int(path) ?? -1 }

    func load() throws(Errno) -> Topology {
        let possible = try cpuList(cpuDir + "/possible", required: true) ?? CPUSet()
        if possible.isEmpty { throw Errno.fail(ENOENT, "\(cpuDir)/possible is empty (or names no CPU id up to \(Topology.maxCPUID))") }
        let present = try cpuList(cpuDir + "/present") ?? possible
        let online = try cpuList(cpuDir + "/online") ?? possible
        let isolated = try cpuList(cpuDir + "/isolated") ?? CPUSet()
        let nohzFull = try cpuList(cpuDir + "/nohz_full") ?? CPUSet()
        let count = (possible.last ?? 0) + 1
        let (affinity, affinityFrom) = processAffinity(possible: possible)
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
        let n = try loadNodes(possible: possible, online: online, count: count)
        let g = groups(online: online, count: count)
        var cpus: [CPUInfo] = []
        cpus.reserveCapacity(count)
        for id in 0..<count {
            cpus.append(CPUInfo(id: id, online: online.contains(id), allowed: allowed.contains(id),
                                isolated: isolated.contains(id), nohzFull: nohzFull.contains(id),
                                coreID: g.core[id], packageID: g.package[id], dieID: g.die[id], l3ID: g.l3[id],
                                node: n.nodeOfCPU[id], smtSiblings: g.siblings[id]))
        }
        let memoryNodes = n.hasMemory ?? CPUSet(n.nodes.filter { $0.hasMemory }.map { $0.id })
        return Topology(prefix: prefix, possible: possible, present: present, online: online,
                        allowed: allowed, allowedSource: source.joined(separator: "; "),
                        affinity: affinity ?? online, cgroup: cgroup, isolated: isolated,
                        nohzFull: nohzFull, cpus: cpus, nodes: n.nodes, nodeIDs: n.ids.isEmpty ? CPUSet([0]) : n.ids,
                        memoryNodes: memoryNodes.isEmpty ? CPUSet([0]) : memoryNodes,
                        nodeIDLimit: Swift.max(1, (n.possible.last ?? 0) + 1, (n.ids.last ?? 0) + 1))
    }

    /// The affinity mask of the main thread (tid == pid) and where it came from:
    /// sched_getaffinity on the real system; a fixture tree gives its own in proc/self/status.
    func processAffinity(possible: CPUSet) -> (CPUSet?, String) {
        if prefix.isEmpty {
            let words = Swift.max(1, ((possible.last ?? 0) + 64) / 64)
            var mask = [UInt64](repeating: 0, count: words)
            let ok = acshim_sched_getaffinity(getpid(), words * 8, &mask) == 0
            return (ok ? CPUSet(words: mask) : nil, "sched_getaffinity")
        }
        guard let status = try? SysFile.read(prefix + "/proc/self/status") else { return (nil, "sched_getaffinity") }
        var affinity: CPUSet?
        for line in SysfsValue.lines(status) where SysfsValue.hasPrefix(line, "Cpus_allowed_list:") {
            let value = SysFile.trim(SysfsValue.string(line.dropFirst(18)))
            affinity = try? CPUSet.parse(value, allowEmpty: true)
        }
        return (affinity, "/proc/self/status")
    }

    /// The nodes, and the node of each CPU id below `count`.
    struct Nodes {
        var ids: CPUSet
        var possible: CPUSet
        var hasMemory: CPUSet?
        var nodes: [NodeInfo] = []
        var nodeOfCPU: [Int]
    }

    func loadNodes(possible: CPUSet, online: CPUSet, count: Int) throws(Errno) -> Nodes {
        var ids = try nodeList(nodeDir + "/online") ?? CPUSet()
        if ids.isEmpty, let names = SysFile.list(nodeDir) {
            ids = CPUSet(names.compactMap { $0.hasPrefix("node") ? Int($0.dropFirst(4)) : nil })
                .intersection(Loader.keptNodeIDs)
        }
        var n = Nodes(ids: ids, possible: try nodeList(nodeDir + "/possible") ?? ids,
                      hasMemory: try list(nodeDir + "/has_memory"), nodeOfCPU: [Int](repeating: -1, count: count))
        if ids.isEmpty {
            // No NUMA in this kernel: one node 0 holding every CPU.
            n.nodes.append(NodeInfo(id: 0, cpus: online, memTotal: 0, memFree: 0, hasMemory: true, distances: [10]))
            for c in possible where c < count { n.nodeOfCPU[c] = 0 }
            return n
        }
        for id in ids {
            let dir = nodeDir + "/node\(id)"
            let cpus = try list(dir + "/cpulist") ?? CPUSet()
            for c in cpus where c < count { n.nodeOfCPU[c] = id }
            let (total, free) = nodeMemory(dir + "/meminfo")
            let distances = (SysfsValue.text(dir + "/distance") ?? "")
                .utf8.split(separator: 0x20).compactMap { Int(String(decoding: $0, as: UTF8.self)) }
            n.nodes.append(NodeInfo(id: id, cpus: cpus, memTotal: total, memFree: free,
                                    hasMemory: n.hasMemory.map { $0.contains(id) } ?? (total > 0),
                                    distances: distances))
        }
        return n
    }

    /// MemTotal and MemFree of a node's meminfo ("Node 0 MemTotal:  8388608 kB"), in bytes.
    func nodeMemory(_ path: String) -> (UInt64, UInt64) {
        var total: UInt64 = 0
        var free: UInt64 = 0
        for line in SysfsValue.lines(SysfsValue.text(path) ?? "") {
            let f = SysfsValue.fields(line)
            guard f.count >= 4, let kb = UInt64(SysfsValue.string(f[3])) else { continue }
            if f[2].elementsEqual("MemTotal:".utf8) { total = kb &* 1024 }
            if f[2].elementsEqual("MemFree:".utf8) { free = kb &* 1024 }
        }
        return (total, free)
    }

    /// Per CPU id below `count`: its core's siblings and core id, its package, die and L3 ids.
    struct Groups {
        var core: [Int], package: [Int], die: [Int], l3: [Int]
        var siblings: [CPUSet]
    }

    /// Read once per group and given to every member. Offline CPUs have no topology in sysfs,
    /// and only CPUs with a cpuN directory (one listing) are opened: a reload stays bounded by
    /// the directories that exist, whatever `possible` claims.
    func groups(online: CPUSet, count: Int) -> Groups {
        let none = [Int](repeating: -1, count: count)
        var g = Groups(core: none, package: none, die: none, l3: none,
                       siblings: [CPUSet](repeating: CPUSet(), count: count))
        let withDirectory = cpuDirectories()
        for id in online where id < count {
            let me = CPUSet([id])
            if !withDirectory.contains(id) {
                if g.siblings[id].isEmpty { g.siblings[id] = me }
                continue
            }
            let dir = cpuDir + "/cpu\(id)/topology"
            if g.siblings[id].isEmpty {
                let group = (try? list(dir + "/thread_siblings_list")).flatMap { $0 } ?? me
                let coreID = int(dir + "/core_id")
                for c in group.union(me) where c < count {
                    g.siblings[c] = group
                    g.core[c] = coreID
                }
            }
            if g.package[id] < 0 {
                let pkg = int(dir + "/physical_package_id")
                let group = (try? list(dir + "/package_cpus_list")).flatMap { $0 }
                    ?? (try? list(dir + "/core_siblings_list")).flatMap { $0 } ?? me
                for c in group.union(me) where c < count { g.package[c] = pkg }
            }
            if g.die[id] < 0 {
                let dieID = int(dir + "/die_id")
                let group = (try? list(dir + "/die_cpus_list")).flatMap { $0 } ?? me
                for c in group.union(me) where c < count { g.die[c] = dieID }
            }
            if g.l3[id] < 0, let (l3ID, group) = l3Group(cpuDir + "/cpu\(id)/cache") {
                for c in group.union(me) where c < count { g.l3[c] = l3ID }
            }
        }
        return g
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
