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

    /// CPUs grouped by a key (L3 id, core): "0-3" per group, in first-seen order.
    static func groups(_ t: Topology, _ key: (CPUInfo) -> Int) -> [(Int, CPUSet)] {
        var order: [Int] = []
        var by: [Int: CPUSet] = [:]
        for c in t.cpus where c.online && key(c) >= 0 {
            if by[key(c)] == nil { order.append(key(c)) }
            by[key(c), default: CPUSet()].insert(c.id)
        }
        return order.map { ($0, by[$0] ?? CPUSet()) }
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
        let l3 = groups(t) { $0.l3ID }
        if !l3.isEmpty {
            s += "\nL3 caches\n"
            for (id, cpus) in l3 { s += "  L3 \(id)  CPUs \(cpus.cpulist)\n" }
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
        s += "  \"cpus\": [\n" + t.cpus.filter { t.possible.contains($0.id) }.map { c in
            "    {\"id\": \(c.id), \"online\": \(c.online), \"allowed\": \(c.allowed), \"isolated\": \(c.isolated), \"nohz_full\": \(c.nohzFull), \"node\": \(c.node), \"package\": \(c.packageID), \"core\": \(c.coreID), \"l3\": \(c.l3ID), \"siblings\": \(str(c.smtSiblings.cpulist))}"
        }.joined(separator: ",\n") + "\n  ]\n}\n"
        return s
    }
}
