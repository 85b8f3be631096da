// The network path a feed arrives on: per NIC, where its interrupts and softirq work run (IRQ
// affinity, RPS, XPS), what the driver does to a packet before the engine sees it (coalescing,
// ring size, GRO, LRO); for all NICs, the socket buffer limits and the softirq budget.
import Glibc

extension DoctorContext {
    static let nicCheckNames = ["irq", "rps", "xps", "coalesce", "ring", "gro", "lro"]

    func netChecks() -> [DoctorCheck] {
        let nics = chooseNICs()
        let expected = "the NICs the feed arrives on (--nic; default: the default route's, and those of --pid's sockets)"
        let src = "/proc/net/route, /proc/net/ipv6_route" + (options.pid.map { ", /proc/\($0)/fd, /proc/\($0)/net/{tcp,udp}, /proc/net/igmp" } ?? "")
        var out: [DoctorCheck] = []
        out.append(nics.isEmpty
            ? DoctorCheck("net.nics", .info, saw: "no NIC to check: no default route\(options.pid == nil ? "" : " and no routable socket of pid \(options.pid ?? 0)")",
                          expected: expected, source: src, advice: "pass --nic with the interface the feed arrives on")
            : DoctorCheck("net.nics", .info, saw: nics.map { "\($0.name) (\($0.from))" }.joined(separator: ", "), expected: expected, source: src))
        for nic in nics { out += nicChecks(nic.name) }
        out.append(rmemCheck())
        out.append(budgetCheck())
        return out
    }

    func nicChecks(_ nic: String) -> [DoctorCheck] {
        let why: String
        var severity = DoctorSeverity.info
        switch nicKind(nic) {
        case .device:
            return [nicIRQCheck(nic), rpsCheck(nic), xpsCheck(nic), coalesceCheck(nic), ringCheck(nic),
                    offloadCheck(nic, "gro"), offloadCheck(nic, "lro")]
        case .missing(let reason): why = "cannot tell: \(reason)"; severity = .unknown
        case .loopback: why = "\(nic) is the loopback interface: no device, no IRQ, no ring; packets are handed over in software"
        case .virtual(let lower):
            why = "\(nic) is a virtual interface (no device: bridge, bond, VLAN, veth, tun): its packets arrive through "
                + (lower.isEmpty ? "another NIC; check that one with --nic" : "\(lower.joined(separator: ", ")); check \(lower.count == 1 ? "it" : "them") with --nic")
        }
        return Self.nicCheckNames.map {
            DoctorCheck("net.\($0).\(nic)", severity, saw: why, expected: "a physical NIC's \($0) settings", source: "/sys/class/net/\(nic)")
        }
    }

    /// The CPUs the NIC's interrupt and softirq work should be on, and the words for it.
    private var nicTarget: (ok: ([Int]) -> Bool, text: String) {
        if let chosen = nicCPUs {
            let s = Set(chosen)
            return ({ $0.allSatisfy { s.contains($0) } }, "only on the CPUs chosen for the NIC (\(DoctorCPUs.format(chosen)))")
        }
        let h = Set(hot)
        return ({ !$0.contains { h.contains($0) } }, "off the hot CPUs \(hotText)")
    }

    func nicIRQCheck(_ nic: String) -> DoctorCheck {
        let id = "net.irq.\(nic)"
        let src = "/sys/class/net/\(nic)/device/msi_irqs, /proc/interrupts, /proc/irq/N/effective_affinity_list"
        let target = nicTarget
        let expected = "\(nic)'s IRQs \(target.text)"
        let irqs = nicIRQs(nic)
        if irqs.isEmpty { return unknown(id, "no IRQ of \(nic) in its device's msi_irqs or /proc/interrupts", expected: expected, source: src) }
        var bad: [String] = []
        var all: [Int] = []
        for irq in irqs {
            var r = host.cpuList("/proc/irq/\(irq)/effective_affinity_list")
            if case .failure = r { r = host.cpuList("/proc/irq/\(irq)/smp_affinity_list") }
            switch r {
            case .success(let cpus):
                all += cpus
                if !target.ok(cpus) { bad.append("\(irq)\(irqNames["\(irq)"].map { " (\($0))" } ?? "") on \(DoctorCPUs.format(cpus))") }
            case .failure(let p): return unknown(id, p.reason, expected: expected, source: src)
            }
        }
        if bad.isEmpty {
            return DoctorCheck(id, .ok, saw: "\(irqs.count) IRQs on \(DoctorCPUs.format(Array(Set(all))))", expected: expected, source: src)
        }
        let cpus = nicCPUs.map(DoctorCPUs.format) ?? "<housekeeping CPUs>"
        return DoctorCheck(id, .warn, saw: "\(bad.count) of \(irqs.count) IRQs elsewhere: " + bad.prefix(6).joined(separator: "; ") + (bad.count > 6 ? "; ..." : ""),
                           expected: expected, source: src,
                           advice: "echo \(cpus) > /proc/irq/N/smp_affinity_list for \(nic)'s IRQs (stop irqbalance or ban the hot CPUs first)")
    }

    /// Each queue's mask under /sys/class/net/NIC/queues/<prefix>-N/<file>, or why not.
    private func queueMasks(_ nic: String, _ prefix: String, _ file: String) -> Result<[(String, [Int])], DoctorProblem> {
        let dir = "/sys/class/net/\(nic)/queues"
        guard let qs = host.list(dir) else { return .failure(DoctorProblem("cannot list \(dir)")) }
        var out: [(String, [Int])] = []
        for q in qs where q.hasPrefix(prefix + "-") {
            if !host.exists("\(dir)/\(q)/\(file)") { continue }
            switch host.cpuMask("\(dir)/\(q)/\(file)") {
            case .success(let m): out.append((q, m))
            // A single-queue device lists xps_cpus but refuses to open it (ENOENT).
            case .failure(let p) where p.reason.hasSuffix("No such file or directory"): continue
            case .failure(let p): return .failure(p)
            }
        }
        return .success(out)
    }

    func rpsCheck(_ nic: String) -> DoctorCheck {
        let id = "net.rps.\(nic)"
        let src = "/sys/class/net/\(nic)/queues/rx-N/rps_cpus"
        let target = nicTarget
        let expected = "RPS off, or steering \(nic)'s packets \(target.text)"
        switch queueMasks(nic, "rx", "rps_cpus") {
        case .failure(let p): return unknown(id, p.reason, expected: expected, source: src)
        case .success(let masks):
            if masks.isEmpty { return DoctorCheck(id, .info, saw: "no rps_cpus (kernel without RPS)", expected: expected, source: src) }
            let on = masks.filter { !$0.1.isEmpty }
            if on.isEmpty { return DoctorCheck(id, .ok, saw: "RPS off on \(masks.count) rx queues: packets are processed where the IRQ ran", expected: expected, source: src) }
            let bad = on.filter { !target.ok($0.1) }
            let saw = on.map { "\($0.0) -> \(DoctorCPUs.format($0.1))" }.prefix(6).joined(separator: "; ")
            return bad.isEmpty
                ? DoctorCheck(id, .ok, saw: "RPS " + saw, expected: expected, source: src)
                : DoctorCheck(id, .warn, saw: "RPS sends softirq work to other CPUs: " + saw, expected: expected, source: src,
                              advice: "echo 0 > \(src) (or a mask of the housekeeping CPUs)")
        }
    }

    func xpsCheck(_ nic: String) -> DoctorCheck {
        let id = "net.xps.\(nic)"
        let src = "/sys/class/net/\(nic)/queues/tx-N/xps_cpus"
        let expected = "no tx queue shared by hot and housekeeping CPUs (a hot thread's sends never wait on another CPU's queue lock)"
        switch queueMasks(nic, "tx", "xps_cpus") {
        case .failure(let p): return unknown(id, p.reason, expected: expected, source: src)
        case .success(let masks):
            if masks.isEmpty { return DoctorCheck(id, .info, saw: "no xps_cpus (one tx queue, or a driver without XPS)", expected: expected, source: src) }
            let on = masks.filter { !$0.1.isEmpty }
            if on.isEmpty { return DoctorCheck(id, .info, saw: "XPS not set on \(masks.count) tx queues: the kernel picks a queue by flow hash", expected: expected, source: src) }
            let h = Set(hot)
            let mixed = on.filter { m in m.1.contains { h.contains($0) } && m.1.contains { !h.contains($0) } }
            let saw = on.map { "\($0.0) <- \(DoctorCPUs.format($0.1))" }.prefix(6).joined(separator: "; ")
            return mixed.isEmpty
                ? DoctorCheck(id, .ok, saw: "XPS " + saw, expected: expected, source: src)
                : DoctorCheck(id, .warn, saw: "tx queues shared by hot and other CPUs: " + mixed.map { "\($0.0) <- \(DoctorCPUs.format($0.1))" }.prefix(6).joined(separator: "; "),
                              expected: expected, source: src, advice: "give each hot CPU its own tx queue in xps_cpus")
        }
    }
}
