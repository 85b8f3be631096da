// The C ABI for CPU placement: topology, cpulists, pinning, NUMA policy. Thin: each function
// checks its arguments, calls AlphaCore, maps a thrown Errno to -errno.
import AlphaCore
import CAlphaCoreABI
import Glibc

/// A set as a cpulist into a caller buffer, snprintf-style (the length it needs).
@inline(__always)
func writeList(_ set: CPUSet, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) throws(Errno) -> Int {
    try writeText(set.cpulist, buf, cap)
}

extension alphacore_cpu_info: VersionedStruct {
    static let cName: StaticString = "alphacore_cpu_info"
}

/// The set a `which` constant names.
func topologySet(_ which: Int32) throws(Errno) -> CPUSet {
    let t = try Topology.current
    switch which {
    case ALPHACORE_CPUS_POSSIBLE: return t.possible
    case ALPHACORE_CPUS_ONLINE: return t.online
    case ALPHACORE_CPUS_ALLOWED: return t.allowed
    case ALPHACORE_CPUS_ISOLATED: return t.isolated
    case ALPHACORE_CPUS_NOHZ_FULL: return t.nohzFull
    case ALPHACORE_NODES_ONLINE: return t.nodeIDs
    case ALPHACORE_NODES_WITH_MEMORY: return t.memoryNodes
    default: throw Errno.fail(EINVAL, "which = \(which) is not one of ALPHACORE_CPUS_* / ALPHACORE_NODES_*")
    }
}

/// Reads a caller's cpulist (validated only for syntax here).
func readList(_ p: UnsafePointer<CChar>?, what: StaticString) throws(Errno) -> CPUSet {
    try CPUSet.parse(readCString(p, limit: 1 << 16, what: what), what: "\(what)")
}

func cpuInfo(_ cpu: Int32) throws(Errno) -> CPUInfo {
    let t = try Topology.current
    guard let info = t.cpu(Int(cpu)), t.possible.contains(Int(cpu)) else {
        throw Errno.fail(EINVAL, "cpu \(cpu) is not a possible CPU (possible: \(t.possible.cpulist))")
    }
    return info
}

func nodeInfo(_ node: Int32) throws(Errno) -> NodeInfo {
    let t = try Topology.current
    guard let info = t.node(Int(node)) else {
        throw Errno.fail(ENOENT, "node \(node) does not exist (online nodes: \(t.nodeIDs.cpulist))")
    }
    return info
}

@c @implementation
public func alphacore_topology_reload() -> Int32 {
    cStatus { () throws(Errno) in
        try Topology.reload()
        return 0
    }
}

@c @implementation
public func alphacore_topology_list(_ which: Int32, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in try writeList(topologySet(which), buf, cap) }
}

@c @implementation
public func alphacore_topology_mask(_ which: Int32, _ words: UnsafeMutablePointer<UInt64>?, _ nwords: Int) -> Int32 {
    cCount { () throws(Errno) in
        let set = try topologySet(which)
        if nwords < 0 || (words == nil && nwords != 0) {
            throw Errno.fail(EINVAL, "words is NULL or nwords is too large")
        }
        let needed = Swift.max(set.words.count, 1)
        if let words {
            for i in 0..<nwords { words[i] = i < set.words.count ? set.words[i] : 0 }
        }
        return needed
    }
}

@c @implementation
public func alphacore_cpus_allowed_source(_ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in try writeText(Topology.current.allowedSource, buf, cap) }
}

@c @implementation
public func alphacore_cpu_node(_ cpu: Int32) -> Int32 { cStatus { () throws(Errno) in Topology.node(ofCPU: cpu) } }

@c @implementation
public func alphacore_cpu_info_get(_ cpu: Int32, _ info: UnsafeMutablePointer<alphacore_cpu_info>?) -> Int32 {
    cStatus { () throws(Errno) in
        let c = try cpuInfo(cpu)
        var out = alphacore_cpu_info()
        out.struct_size = UInt32(MemoryLayout<alphacore_cpu_info>.size)
        out.cpu = cpu
        out.online = c.online ? 1 : 0
        out.allowed = c.allowed ? 1 : 0
        out.isolated = c.isolated ? 1 : 0
        out.nohz_full = c.nohzFull ? 1 : 0
        out.core_id = Int32(clamping: c.coreID)
        out.package_id = Int32(clamping: c.packageID)
        out.die_id = Int32(clamping: c.dieID)
        out.l3_id = Int32(clamping: c.l3ID)
        out.node = Int32(clamping: c.node)
        out.smt_count = Int32(clamping: c.smtSiblings.count)
        try writeVersioned(out, to: info)
        return 0
    }
}

@c @implementation
public func alphacore_cpu_siblings(_ cpu: Int32, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in
        let c = try cpuInfo(cpu)
        if c.smtSiblings.isEmpty {
            throw Errno.fail(ENOENT, "sysfs shows no topology for cpu \(cpu) (offline?)")
        }
        return try writeList(c.smtSiblings, buf, cap)
    }
}

@c @implementation
public func alphacore_node_cpus(_ node: Int32, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in try writeList(nodeInfo(node).cpus, buf, cap) }
}

@c @implementation
public func alphacore_node_memory(_ node: Int32, _ total: UnsafeMutablePointer<UInt64>?, _ free: UnsafeMutablePointer<UInt64>?) -> Int32 {
    cStatus { () throws(Errno) in
        let n = try nodeInfo(node)
        total?.pointee = n.memTotal
        free?.pointee = n.memFree
        return 0
    }
}

@c @implementation
public func alphacore_node_distance(_ from: Int32, _ to: Int32) -> Int32 {
    cCount { () throws(Errno) in
        let t = try Topology.current
        guard let d = t.distance(from: Int(from), to: Int(to)) else {
            throw Errno.fail(ENOENT, "no distance between nodes \(from) and \(to) (online nodes: \(t.nodeIDs.cpulist))")
        }
        return d
    }
}

@c @implementation
public func alphacore_cpulist_parse(_ cpulist: UnsafePointer<CChar>?, _ words: UnsafeMutablePointer<UInt64>?, _ nwords: Int) -> Int32 {
    cCount { () throws(Errno) in
        if nwords < 0 || (words == nil && nwords != 0) {
            throw Errno.fail(EINVAL, "words is NULL or nwords is too large")
        }
        let set = try readList(cpulist, what: "cpulist")
        if set.words.count > nwords {
            throw Errno.fail(ERANGE, "cpulist \"\(set.cpulist)\" names cpu \(set.last ?? 0): it needs \(set.words.count) words, given \(nwords)")
        }
        if let words {
            for i in 0..<nwords { words[i] = i < set.words.count ? set.words[i] : 0 }
        }
        return set.count
    }
}

@c @implementation
public func alphacore_cpulist_format(_ words: UnsafePointer<UInt64>?, _ nwords: Int, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in
        if nwords < 0 || nwords > 1 << 20 { throw Errno.fail(EINVAL, "nwords \(nwords) is out of range") }
        guard let words else {
            if nwords == 0 { return try writeList(CPUSet(), buf, cap) }
            throw Errno.fail(EINVAL, "words is NULL but nwords is \(nwords)")
        }
        return try writeList(CPUSet(words: UnsafeBufferPointer(start: words, count: nwords)), buf, cap)
    }
}

@c @implementation
public func alphacore_pin_thread(_ cpu: Int32) -> Int32 {
    cStatus { () throws(Errno) in
        try Pinning.pinCurrentThread(cpu: Int(cpu))
        return 0
    }
}

@c @implementation
public func alphacore_pin_thread_list(_ cpulist: UnsafePointer<CChar>?) -> Int32 {
    cStatus { () throws(Errno) in
        try Pinning.pinCurrentThread(to: readList(cpulist, what: "cpulist"))
        return 0
    }
}

@c @implementation
public func alphacore_pin_pthread(_ thread: pthread_t, _ cpulist: UnsafePointer<CChar>?) -> Int32 {
    cStatus { () throws(Errno) in
        try Pinning.pin(thread: thread, to: readList(cpulist, what: "cpulist"))
        return 0
    }
}

@c @implementation
public func alphacore_pin_verify() -> Int32 { cStatus { () throws(Errno) in Pinning.verifyCode() } }

@c @implementation
public func alphacore_current_cpu() -> Int32 {
    cStatus { () throws(Errno) in
        let cpu = Pinning.currentCPU()
        if cpu < 0 { throw Errno.fromErrno("sched_getcpu") }
        return cpu
    }
}

@c @implementation
public func alphacore_thread_affinity(_ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in try writeList(Pinning.currentAffinity(), buf, cap) }
}

@c @implementation
public func alphacore_affinity_save(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cStatus { () throws(Errno) in
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        let saved = try Pinning.save()
        out.pointee = makeHandle(saved)
        return 0
    }
}

@c @implementation
public func alphacore_affinity_restore(_ saved: OpaquePointer?) -> Int32 {
    cStatus { () throws(Errno) in
        guard let saved else { throw Errno.fail(EINVAL, "saved is NULL") }
        try Pinning.restore(UnsafePointer<Pinning.Saved>(saved).pointee)
        return 0
    }
}

@c @implementation
public func alphacore_affinity_free(_ saved: OpaquePointer?) {
    destroyHandle(saved, as: Pinning.Saved.self)
}

@c @implementation
public func alphacore_numa_status() -> Int32 { cStatus { () throws(Errno) in NUMA.status.rawValue } }

func policyMode(_ mode: Int32) throws(Errno) -> NUMA.Mode {
    guard let m = NUMA.Mode(rawValue: mode) else {
        throw Errno.fail(EINVAL, "mode \(mode) is not one of ALPHACORE_MPOL_*")
    }
    return m
}

/// A node list argument: NULL and "" are the empty set.
func readNodes(_ p: UnsafePointer<CChar>?) throws(Errno) -> CPUSet {
    guard let p, p.pointee != 0 else { return CPUSet() }
    return try CPUSet.parse(readCString(p, limit: 1 << 16, what: "nodes"), what: "node list", maxID: 1 << 16)
}

@c @implementation
public func alphacore_mem_policy_set(_ mode: Int32, _ nodes: UnsafePointer<CChar>?) -> Int32 {
    cStatus { () throws(Errno) in
        try NUMA.setThreadPolicy(policyMode(mode), nodes: readNodes(nodes))
        return 0
    }
}

@c @implementation
public func alphacore_mem_bind(_ addr: UnsafeMutableRawPointer?, _ len: Int, _ mode: Int32, _ nodes: UnsafePointer<CChar>?, _ flags: UInt32) -> Int32 {
    cStatus { () throws(Errno) in
        guard let addr else { throw Errno.fail(EINVAL, "addr is NULL") }
        if len <= 0 { throw Errno.fail(EINVAL, "len is 0 or too large") }
        if flags & ~ALPHACORE_MBIND_STRICT != 0 {
            throw Errno.fail(EINVAL, "unknown flags 0x\(String(flags & ~ALPHACORE_MBIND_STRICT, radix: 16))")
        }
        try NUMA.bind(range: UnsafeMutableRawBufferPointer(start: addr, count: len), nodes: readNodes(nodes),
                      mode: policyMode(mode), strict: flags & ALPHACORE_MBIND_STRICT != 0)
        return 0
    }
}

@c @implementation
public func alphacore_mem_node_of(_ addr: UnsafeRawPointer?) -> Int32 {
    cCount { () throws(Errno) in
        guard let addr else { throw Errno.fail(EINVAL, "addr is NULL") }
        return try NUMA.nodeOf(address: addr)
    }
}

@c @implementation
public func alphacore_roles_set(_ spec: UnsafePointer<CChar>?) -> Int32 {
    cStatus { () throws(Errno) in
        if spec == nil {
            try Roles.setFromEnvironment()
        } else {
            try Roles.set(spec: readCString(spec, limit: 1 << 16, what: "spec"))
        }
        return 0
    }
}

@c @implementation
public func alphacore_pin_role(_ role: UnsafePointer<CChar>?) -> Int32 {
    cCount { () throws(Errno) in
        try Roles.pin(role: readCString(role, limit: 256, what: "role"))
    }
}

@c @implementation
public func alphacore_role_cpus(_ role: UnsafePointer<CChar>?, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in
        try writeList(Roles.cpus(of: readCString(role, limit: 256, what: "role")), buf, cap)
    }
}

@c @implementation
public func alphacore_set_nice(_ nice: Int32) -> Int32 {
    cStatus { () throws(Errno) in
        try Scheduling.setNice(Int(nice))
        return 0
    }
}

@c @implementation
public func alphacore_set_realtime(_ policy: Int32, _ priority: Int32) -> Int32 {
    cStatus { () throws(Errno) in
        guard let p = Scheduling.Policy(rawValue: policy) else {
            throw Errno.fail(EINVAL, "policy \(policy) is not ALPHACORE_SCHED_OTHER, _FIFO or _RR")
        }
        try Scheduling.setRealtime(policy: p, priority: Int(priority))
        return 0
    }
}

@c @implementation
public func alphacore_thread_name_set(_ name: UnsafePointer<CChar>?) -> Int32 {
    cStatus { () throws(Errno) in
        try Scheduling.setThreadName(readCString(name, limit: 4096, what: "name"))
        return 0
    }
}

@c @implementation
public func alphacore_thread_name_get(_ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in try writeText(Scheduling.threadName(), buf, cap) }
}
