// Memory, NUMA and virtualisation checks.
import Glibc

extension DoctorContext {
    func memoryChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        // mem.thp and mem.thp_defrag: one bad choice each.
        for (id, file, bad, saw, expected, fix) in [
            ("mem.thp", "enabled", "never", "THP never: no transparent huge pages below the hugetlb tiers",
             "madvise or always (the library asks for THP with madvise when huge pages run out)", "madvise"),
            ("mem.thp_defrag", "defrag", "always", "defrag always: any page fault may stall in direct compaction",
             "madvise, defer, defer+madvise or never (no direct compaction in every fault)", "defer+madvise"),
        ] {
            let src = "/sys/kernel/mm/transparent_hugepage/\(file)"
            switch host.selected(src) {
            case .success(let v):
                out.append(v == bad
                    ? DoctorCheck(id, .warn, saw: saw, expected: expected, source: src, advice: "echo \(fix) > \(src)")
                    : DoctorCheck(id, .ok, saw: "\(file) \(v)", expected: expected, source: src))
            case .failure(let p): out.append(unknown(id, p.reason, expected: expected, source: src))
            }
        }
        out += hugePageChecks()
        // mem.swap
        do {
            let src = "/proc/swaps"
            let expected = "no swap, or the engine's memory locked"
            if let t = host.read(src).text, !t.hasPrefix("Filename") {
                out.append(unknown("mem.swap", "\(src) holds '\(DoctorHost.excerpt(t))', not a swap table", expected: expected, source: src))
            } else if let t = host.read(src).text {
                let devices = t.split(separator: "\n").dropFirst().filter { !SysFile.trim($0).isEmpty }
                var total: Int64 = 0
                for d in devices { total += Int64(d.split(whereSeparator: DoctorHost.isBlank).dropFirst(2).first ?? "") ?? 0 }
                let swappiness = (try? host.integer("/proc/sys/vm/swappiness").get()).map { "; swappiness \($0)" } ?? ""
                out.append(devices.isEmpty
                    ? DoctorCheck("mem.swap", .ok, saw: "no swap\(swappiness)", expected: expected, source: src)
                    : DoctorCheck("mem.swap", .warn, saw: "\(devices.count) swap areas, \(DoctorFormat.bytes(total * 1024))\(swappiness)", expected: expected, source: "\(src), /proc/sys/vm/swappiness",
                                  advice: "lock the engine's memory (mlockall, ALPHACORE_MEM_LOCK) or swapoff -a; at least sysctl -w vm.swappiness=1"))
            } else {
                out.append(unknown("mem.swap", host.read(src).reason, expected: expected, source: src))
            }
        }
        return out
    }

    /// The pool files of `dir` parse as integers (else the reason): the doctor reports garbage
    /// as unknown before the memory capability reads the counts.
    private func poolFilesProblem(_ dir: String, perNode: Bool) -> String? {
        for f in ["nr_hugepages", "free_hugepages", "surplus_hugepages"] + (perNode ? [] : ["resv_hugepages"]) {
            if case .failure(let p) = host.integer("\(dir)/\(f)") { return p.reason }
        }
        return nil
    }

    /// Huge-page pools (the memory capability's HugePages) against the engine's needs.
    func hugePageChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        let base = "/sys/kernel/mm/hugepages"
        guard host.list(base) != nil else {
            return [unknown("mem.hugepages", "cannot list \(base) (kernel without hugetlbfs?)", expected: "huge-page pools for the engine's need", source: base)]
        }
        let sizes = HugePages.sizes(root: host.root).sorted()
        func name(_ bytes: Int) -> String { HugePageNeed.sizeName(kib: bytes / 1024) }
        if options.hugepages.isEmpty {
            var parts: [String] = []
            for size in sizes {
                let dir = "\(base)/hugepages-\(size / 1024)kB"
                if let why = poolFilesProblem(dir, perNode: false) { parts.append("\(name(size)): \(why)"); continue }
                if let p = try? HugePages.pool(pageSize: size, root: host.root) { parts.append("\(name(size)): \(p.usable) usable of \(p.total)") }
            }
            out.append(DoctorCheck("mem.hugepages", .info, saw: parts.isEmpty ? "no huge-page sizes" : parts.joined(separator: "; "),
                                   expected: "pools sized for the engine (pass --hugepages SIZE:COUNT[@NODE] to check)", source: base))
            return out
        }
        for need in options.hugepages {
            let id = "mem.hugepages.\(need.description)"
            let size = need.pageKiB * 1024
            let expected = "at least \(need.count) usable \(name(size)) pages" + (need.node.map { " on node \($0)" } ?? "")
            guard sizes.contains(size) else {
                out.append(DoctorCheck(id, .fail, saw: "no \(name(size)) page size (sizes: \(sizes.map(name).joined(separator: " ")))",
                                       expected: expected, source: base, advice: "choose a size the CPU and kernel support (hugepagesz= at boot for 1G)"))
                continue
            }
            let globalDir = "\(base)/hugepages-\(need.pageKiB)kB"
            var dir = globalDir
            if let node = need.node {
                dir = "/sys/devices/system/node/node\(node)/hugepages/hugepages-\(need.pageKiB)kB"
                if !HugePages.nodeExists(Int32(node), root: host.root) {
                    out.append(DoctorCheck(id, .fail, saw: "node \(node) does not exist", expected: expected, source: "/sys/devices/system/node",
                                           advice: "see `alphacore topology` for the nodes"))
                    continue
                }
            }
            if let why = poolFilesProblem(globalDir, perNode: false) ?? (need.node != nil ? poolFilesProblem(dir, perNode: true) : nil) {
                out.append(unknown(id, why, expected: expected, source: dir))
                continue
            }
            let pool: HugePagePool
            do throws(Errno) {
                let global = try HugePages.pool(pageSize: size, root: host.root)
                pool = try need.node.map { n throws(Errno) in try HugePages.pool(pageSize: size, node: Int32(n), global: global, root: host.root) } ?? global
            } catch {
                out.append(unknown(id, DoctorHost.stripRoot(Detail.current, root: host.root), expected: expected, source: dir))
                continue
            }
            let saw = "\(pool.usable) usable (\(pool.free) free, \(pool.reserved) reserved, \(pool.total) total, \(pool.surplus) surplus)"
            let setting = need.node.map { "echo \(need.count) > /sys/devices/system/node/node\($0)/hugepages/hugepages-\(need.pageKiB)kB/nr_hugepages" }
                ?? "echo \(need.count) > \(globalDir)/nr_hugepages (hugepages= at boot for 1G)"
            out.append(pool.usable >= need.count
                ? DoctorCheck(id, .ok, saw: saw, expected: expected, source: dir)
                : DoctorCheck(id, .fail, saw: saw, expected: expected, source: dir,
                              advice: "reserve them: \(setting); the library falls back to smaller pages otherwise"))
        }
        return out
    }

    /// NUMA from the CPU capability's topology and NUMA status.
    func numaChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        numaTopologyCheck(&out)
        numaSyscallsCheck(&out)
        return out
    }

    // numa.topology
    private func numaTopologyCheck(_ out: inout [DoctorCheck]) {
        let base = "/sys/devices/system/node"
        let expected = "hot CPUs on one node, and every node with CPUs has memory"
        switch topology {
        case .failure(let p):
            out.append(unknown("numa.topology", p.reason, expected: expected, source: base))
        case .success(let t) where !host.exists(base):
            out.append(DoctorCheck("numa.topology", .info, saw: "no NUMA in this kernel (no \(base)); CPUs \(t.online.cpulist)", expected: expected, source: base))
        case .success(let t):
            let ids = t.nodes.map(\.id)
            let sparse = ids.last.map { $0 + 1 != ids.count } == true ? " (sparse node ids)" : ""
            let parts = t.nodes.map { n in
                "node \(n.id): CPUs \(n.cpus.isEmpty ? "none" : n.cpus.cpulist), \(n.hasMemory ? DoctorFormat.bytes(Int64(n.memTotal)) : "no memory")"
            }
            let memoryless = t.nodes.filter { !$0.cpus.isEmpty && !$0.hasMemory }.map(\.id)
            let hotNodes = t.nodes.filter { n in hot.contains { n.cpus.contains($0) } }.map(\.id)
            let saw = "\(ids.count) node\(ids.count == 1 ? "" : "s")\(sparse): " + parts.joined(separator: "; ")
            if !memoryless.isEmpty {
                out.append(DoctorCheck("numa.topology", .warn, saw: saw + "; memoryless: \(memoryless.map(String.init).joined(separator: ","))",
                                       expected: expected, source: base,
                                       advice: "CPUs of a memoryless node always allocate remotely: keep hot threads on nodes with memory"))
            } else if hotNodes.count > 1 {
                out.append(DoctorCheck("numa.topology", .warn, saw: saw + "; hot CPUs span nodes \(hotNodes.map(String.init).joined(separator: ","))",
                                       expected: expected, source: base,
                                       advice: "keep a pipeline's hot threads and their memory on one node (alphacore_mem_alloc with its node)"))
            } else {
                out.append(DoctorCheck("numa.topology", ids.count > 1 ? .info : .ok, saw: saw, expected: expected, source: base))
            }
        }
    }

    // numa.syscalls: the memory-policy calls the library uses (the CPU capability's probe).
    private func numaSyscallsCheck(_ out: inout [DoctorCheck]) {
        let expected = "get_mempolicy/set_mempolicy/mbind allowed"
        if host.live {
            let multi = nodeCount > 1
            switch NUMA.status {
            case .available, .singleNode:
                out.append(DoctorCheck("numa.syscalls", .ok, saw: "get_mempolicy works", expected: expected, source: "get_mempolicy(2)"))
            case .unavailable:
                out.append(DoctorCheck("numa.syscalls", multi ? .warn : .info, saw: "get_mempolicy: ENOSYS (no NUMA support, or refused as ENOSYS by seccomp)",
                                       expected: expected, source: "get_mempolicy(2)",
                                       advice: multi ? "allow the NUMA calls in the seccomp profile; memory placement is otherwise left to first touch" : ""))
            case .denied:
                out.append(DoctorCheck("numa.syscalls", multi ? .fail : .warn,
                                       saw: "get_mempolicy refused: Operation not permitted (seccomp)",
                                       expected: expected, source: "get_mempolicy(2)",
                                       advice: "allow get_mempolicy, set_mempolicy, mbind and move_pages in the seccomp profile (Docker: --security-opt seccomp=...)"))
            }
        } else {
            let seccomp = host.status?["Seccomp"]
            if seccomp == "2" && nodeCount > 1 {
                out.append(DoctorCheck("numa.syscalls", .warn, saw: "\(nodeCount) NUMA nodes under a seccomp filter: the memory-policy calls may be refused (EPERM)",
                                       expected: expected, source: "/proc/self/status",
                                       advice: "allow get_mempolicy, set_mempolicy, mbind and move_pages in the seccomp profile"))
            } else {
                out.append(DoctorCheck("numa.syscalls", .info, saw: "not probed (reading a fixture tree); seccomp \(seccomp ?? "unknown")",
                                       expected: expected, source: "/proc/self/status"))
            }
        }
    }

    func virtChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        // virt.hypervisor
        do {
            let expected = "bare metal, or a VM with dedicated, pinned vCPUs"
            let flags = cpuFlags
            var vendor: String? = nil
            for p in ["/sys/hypervisor/type", "/sys/class/dmi/id/sys_vendor"] {
                if let v = host.trimmed(p), !v.isEmpty { vendor = v; break }
            }
            let knownVM = ["KVM", "QEMU", "VMware, Inc.", "Xen", "Microsoft Corporation", "Amazon EC2", "Google", "xen"]
            if flags?.contains("hypervisor") == true || (vendor.map { v in knownVM.contains { v.hasPrefix($0) } } ?? false) {
                out.append(DoctorCheck("virt.hypervisor", .info, saw: "virtual machine\(vendor.map { " (\($0))" } ?? "")",
                                       expected: expected, source: "/proc/cpuinfo, /sys/class/dmi/id/sys_vendor",
                                       advice: "ask for dedicated vCPUs pinned to host cores; latency also depends on the host's tuning"))
            } else if flags == nil && vendor == nil {
                out.append(unknown("virt.hypervisor", host.read("/proc/cpuinfo").reason, expected: expected, source: "/proc/cpuinfo"))
            } else {
                out.append(DoctorCheck("virt.hypervisor", .ok, saw: "bare metal\(vendor.map { " (\($0))" } ?? "")", expected: expected, source: "/proc/cpuinfo"))
            }
        }
        // virt.steal
        do {
            let src = "/proc/stat"
            let expected = "steal under 1% of CPU time on hot CPUs"
            if let t = host.read(src).text {
                var worst: (Int, Double)? = nil
                var parsed = 0
                for line in t.split(separator: "\n") where line.hasPrefix("cpu") && !line.hasPrefix("cpu ") {
                    let f = line.split(whereSeparator: DoctorHost.isBlank)
                    guard f.count >= 9, let cpu = Int(f[0].dropFirst(3)), hot.contains(cpu) else { continue }
                    let v = f.dropFirst().prefix(8).compactMap { Int64($0) }
                    guard v.count == 8 else { continue }
                    parsed += 1
                    let total = v.reduce(0, +)
                    let steal = total > 0 ? Double(v[7]) / Double(total) : 0
                    if worst.map({ steal > $0.1 }) ?? true { worst = (cpu, steal) }
                }
                if hot.isEmpty {
                    out.append(DoctorCheck("virt.steal", .info, saw: "no hot CPUs", expected: expected, source: src))
                } else if let (cpu, s) = worst {
                    let pct = Double(Int(s * 10000)) / 100
                    out.append(DoctorCheck("virt.steal", s < 0.01 ? .ok : .warn, saw: "most steal since boot: \(pct)% on CPU \(cpu)", expected: expected, source: src,
                                           advice: s < 0.01 ? "" : "the hypervisor runs other guests on these vCPUs: ask for dedicated cores"))
                } else {
                    out.append(unknown("virt.steal", "\(src) has no readable line for the hot CPUs (\(parsed) parsed)", expected: expected, source: src))
                }
            } else {
                out.append(unknown("virt.steal", host.read(src).reason, expected: expected, source: src))
            }
        }
        return out
    }
}
