import AlphaCore
import ArgumentParser

struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Show the machine as libalphacore sees it: nodes, CPUs, siblings, caches, allowed and isolated sets."
    )

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let t: Topology
        do throws(Errno) { t = try Topology.load(prefix: SystemRoot.prefix) } catch {
            Output.error("alphacore topology: \(CommandFailure("cannot read the topology", error))")
            throw ExitCode(1)
        }
        Output.write(json ? Self.json(t) : Self.text(t))
    }

    static func text(_ t: Topology) -> String {
        func list(_ s: CPUSet) -> String { s.isEmpty ? "none" : s.cpulist }
        var s = ""
        if !t.prefix.isEmpty { s += "root       \(t.prefix)\n" }
        s += "possible   \(list(t.possible))\n"
        s += "online     \(list(t.online))\n"
        s += "allowed    \(list(t.allowed))  (\(t.allowedSource))\n"
        s += "isolated   \(list(t.isolated))\n"
        s += "nohz_full  \(list(t.nohzFull))\n"
        if let cg = t.cgroup { s += "cgroup     \(cg.summary)\n" }
        s += "\nNUMA nodes\n"
        for n in t.nodes {
            let mem = n.hasMemory ? "\(DoctorFormat.bytes(Int64(n.memTotal))) (\(DoctorFormat.bytes(Int64(n.memFree))) free)" : "no memory"
            let dist = n.distances.isEmpty ? "" : "  distances \(n.distances.map(String.init).joined(separator: " "))"
            s += "  node \(n.id)  CPUs \(list(n.cpus))  \(mem)\(dist)\n"
        }
        let caches = Self.caches(t)
        if !caches.isEmpty {
            s += "\nCaches (level, type, size: the CPUs sharing each)\n"
            for c in caches { s += "  L\(c.level) \(c.type) \(c.size)  CPUs \(c.cpus)\n" }
        }
        s += "\nCPU  node  package  core  L3  siblings  flags\n"
        for c in t.cpus where t.possible.contains(c.id) {
            var flags: [String] = []
            if !c.online { flags.append("offline") }
            if c.allowed { flags.append("allowed") }
            if c.isolated { flags.append("isolated") }
            if c.nohzFull { flags.append("nohz_full") }
            func col(_ v: Int, _ w: Int) -> String { let x = v < 0 ? "-" : String(v); return x + String(repeating: " ", count: max(1, w - x.count)) }
            let sib = c.smtSiblings.isEmpty ? "-" : c.smtSiblings.cpulist
            s += col(c.id, 5) + col(c.node, 6) + col(c.packageID, 9) + col(c.coreID, 6) + col(c.l3ID, 4)
                + sib + String(repeating: " ", count: max(1, 10 - sib.count)) + flags.joined(separator: " ") + "\n"
        }
        return s
    }

    struct Cache: Hashable { var level: String; var type: String; var size: String; var cpus: String }

    /// Every distinct cache (sysfs cpuN/cache/indexK), in CPU order.
    static func caches(_ t: Topology) -> [Cache] {
        var seen = Set<Cache>()
        var out: [Cache] = []
        for c in t.cpus where c.online {
            let dir = SystemRoot.path("/sys/devices/system/cpu/cpu\(c.id)/cache")
            for index in SysFile.list(dir)?.filter({ $0.hasPrefix("index") }) ?? [] {
                let base = "\(dir)/\(index)"
                guard let level = SysFile.trimmed("\(base)/level"), Int(level) != nil, let shared = SysFile.trimmed("\(base)/shared_cpu_list") else { continue }
                let cache = Cache(level: level, type: SysFile.trimmed("\(base)/type") ?? "?", size: SysFile.trimmed("\(base)/size") ?? "?", cpus: shared)
                if seen.insert(cache).inserted { out.append(cache) }
            }
        }
        return out.sorted { ($0.level, $0.cpus) < ($1.level, $1.cpus) }
    }

    static func json(_ t: Topology) -> String {
        func str(_ s: String) -> String { JSON.string(s) }
        var s = "{\n"
        s += "  \"root\": \(str(t.prefix)),\n"
        s += "  \"possible\": \(str(t.possible.cpulist)), \"online\": \(str(t.online.cpulist)),\n"
        s += "  \"allowed\": \(str(t.allowed.cpulist)), \"allowed_source\": \(str(t.allowedSource)),\n"
        s += "  \"isolated\": \(str(t.isolated.cpulist)), \"nohz_full\": \(str(t.nohzFull.cpulist)),\n"
        s += "  \"cgroup_cpuset\": " + (t.cgroup.map { "{\"version\": \($0.version), \"cpus\": \(str($0.cpus.cpulist)), \"file\": \(str($0.file))}" } ?? "null") + ",\n"
        s += "  \"nodes\": [\n" + t.nodes.map { n in
            "    {\"id\": \(n.id), \"cpus\": \(str(n.cpus.cpulist)), \"mem_total\": \(n.memTotal), \"mem_free\": \(n.memFree), \"has_memory\": \(n.hasMemory), \"distances\": [\(n.distances.map(String.init).joined(separator: ", "))]}"
        }.joined(separator: ",\n") + "\n  ],\n"
        s += "  \"caches\": [" + caches(t).map { "{\"level\": \($0.level), \"type\": \(str($0.type)), \"size\": \(str($0.size)), \"cpus\": \(str($0.cpus))}" }.joined(separator: ", ") + "],\n"
        s += "  \"cpus\": [\n" + t.cpus.filter { t.possible.contains($0.id) }.map { c in
            "    {\"id\": \(c.id), \"online\": \(c.online), \"allowed\": \(c.allowed), \"isolated\": \(c.isolated), \"nohz_full\": \(c.nohzFull), \"node\": \(c.node), \"package\": \(c.packageID), \"core\": \(c.coreID), \"l3\": \(c.l3ID), \"siblings\": \(str(c.smtSiblings.cpulist))}"
        }.joined(separator: ",\n") + "\n  ]\n}\n"
        return s
    }
}
