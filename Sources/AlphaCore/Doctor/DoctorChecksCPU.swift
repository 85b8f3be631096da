// CPU isolation, interrupts and power management checks.
extension DoctorContext {
    func cpuChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        cpuHotCheck(&out)
        cpuIsolatedCheck(&out)
        cpuNohzFullCheck(&out)
        cpuRcuNocbsCheck(&out)
        cpuSmtCheck(&out)
        return out
    }

    func irqChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        irqAffinityCheck(&out)
        irqManagedCheck(&out)
        irqIrqbalanceCheck(&out)
        return out
    }

    func powerChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        // cpu.governor and cpu.epp
        for (id, file, want, advice) in [
            ("cpu.governor", "cpufreq/scaling_governor", "performance", "cpupower frequency-set -g performance (or tuned's latency-performance profile)"),
            ("cpu.epp", "cpufreq/energy_performance_preference", "performance", "write performance to /sys/devices/system/cpu/cpu*/cpufreq/energy_performance_preference"),
        ] {
            let src = "/sys/devices/system/cpu/cpuN/\(file)"
            var values: [(Int, String)] = []
            var noDriver: [Int] = []
            var problems: [String] = []
            for cpu in hot {
                if !host.exists(Self.cpuPath(cpu, "cpufreq")) { noDriver.append(cpu); continue }
                let r = host.read(Self.cpuPath(cpu, file))
                if let t = r.text {
                    let v = SysFile.trim(t)
                    if v.isEmpty || v.containsText(" ") || v.count > 40 { problems.append("\(Self.cpuPath(cpu, file)) holds '\(DoctorHost.excerpt(t))'") } else { values.append((cpu, v)) }
                } else if id == "cpu.epp" && host.exists(Self.cpuPath(cpu, "cpufreq")) && !host.exists(Self.cpuPath(cpu, file)) {
                    noDriver.append(cpu)  // a cpufreq driver without EPP
                } else {
                    problems.append(r.reason)
                }
            }
            let expected = "\(want) on every hot CPU"
            if hot.isEmpty {
                out.append(DoctorCheck(id, .info, saw: "no hot CPUs", expected: expected, source: src))
            } else if let p = problems.first {
                out.append(unknown(id, p, expected: expected, source: src))
            } else if values.isEmpty {
                let what = id == "cpu.governor" ? "no cpufreq driver on \(DoctorCPUs.format(noDriver)): frequency is set by the firmware or hypervisor"
                                                : "no energy_performance_preference on \(DoctorCPUs.format(noDriver)) (driver without EPP, or no cpufreq)"
                out.append(DoctorCheck(id, .info, saw: what, expected: expected, source: src,
                                       advice: id == "cpu.governor" ? "on bare metal, load the cpufreq driver (intel_pstate, amd-pstate, acpi-cpufreq) and set performance" : ""))
            } else {
                let bad = values.filter { $0.1 != want }
                out.append(bad.isEmpty
                    ? DoctorCheck(id, .ok, saw: Self.grouped(values), expected: expected, source: src)
                    : DoctorCheck(id, .warn, saw: Self.grouped(values), expected: expected, source: src, advice: advice))
            }
        }

        cpuCstatesCheck(&out)
        return out
    }

    // cpu.hot: which CPUs the rest is checked against, and whether the engine may use them.
    private func cpuHotCheck(_ out: inout [DoctorCheck]) {
        let src = "/sys/devices/system/cpu/online, /proc/self/status, /proc/self/cgroup"
        if hot.isEmpty {
            out.append(unknown("cpu.hot", "no hot CPUs could be determined", expected: "the engine's CPUs online and allowed", source: src,
                               advice: "pass --cpus with the CPUs the engine's hot threads use"))
        } else if !hotProblems.isEmpty {
            out.append(DoctorCheck("cpu.hot", .fail, saw: "hot CPUs \(hotText): " + hotProblems.joined(separator: "; "),
                                   expected: "every hot CPU online and in the process's allowed set", source: src,
                                   advice: "choose CPUs the process may use, or widen the container's cpuset / affinity"))
        } else {
            out.append(DoctorCheck("cpu.hot", .info, saw: "hot CPUs \(hotText) from \(hotFrom)",
                                   expected: "the CPUs the engine's hot threads use", source: src,
                                   advice: hotFrom == "--cpus" ? "" : "pass --cpus to check against the engine's CPUs"))
        }
    }

    // cpu.isolated
    private func cpuIsolatedCheck(_ out: inout [DoctorCheck]) {
        let src = "/sys/devices/system/cpu/isolated"
        switch host.isolated {
        case .failure(let p):
            out.append(unknown("cpu.isolated", p.reason, expected: "hot CPUs in isolcpus", source: src))
        case .success(let iso):
            let missing = DoctorCPUs.minus(hot, iso)
            let online = (try? host.online.get()) ?? []
            let housekeeping = DoctorCPUs.minus(online, iso)
            if !online.isEmpty && housekeeping.isEmpty {
                out.append(DoctorCheck("cpu.isolated", .warn, saw: "every online CPU is isolated (\(DoctorCPUs.format(iso)))",
                                       expected: "at least one housekeeping CPU left for the kernel and other tasks", source: src,
                                       advice: "leave CPU 0 (and its sibling) out of isolcpus"))
            } else if hot.isEmpty {
                out.append(DoctorCheck("cpu.isolated", .info, saw: "isolated: \(iso.isEmpty ? "none" : DoctorCPUs.format(iso))",
                                       expected: "hot CPUs in isolcpus", source: src))
            } else if missing.isEmpty {
                out.append(DoctorCheck("cpu.isolated", .ok, saw: "isolated: \(DoctorCPUs.format(iso)); hot CPUs \(hotText) all isolated",
                                       expected: "hot CPUs in isolcpus", source: src))
            } else {
                out.append(DoctorCheck("cpu.isolated", .warn,
                                       saw: "isolated: \(iso.isEmpty ? "none" : DoctorCPUs.format(iso)); hot CPUs not isolated: \(DoctorCPUs.format(missing))",
                                       expected: "hot CPUs in isolcpus", source: src,
                                       advice: "boot with isolcpus=managed_irq,domain,\(hotText) (or a tuned cpu-partitioning profile)"))
            }
        }
    }

    // cpu.nohz_full
    private func cpuNohzFullCheck(_ out: inout [DoctorCheck]) {
        let src = "/sys/devices/system/cpu/nohz_full"
        let advice = "boot with nohz_full=\(hotText) (and rcu_nocbs=\(hotText))"
        switch host.nohzFull {
        case .failure(let p):
            out.append(unknown("cpu.nohz_full", p.reason + " (a kernel without NO_HZ_FULL has no such file)",
                               expected: "hot CPUs in nohz_full", source: src, advice: advice))
        case .success(let nohz):
            let missing = DoctorCPUs.minus(hot, nohz)
            let iso = (try? host.isolated.get()) ?? []
            let isoNotNohz = DoctorCPUs.minus(DoctorCPUs.intersect(hot, iso), nohz)
            if hot.isEmpty {
                out.append(DoctorCheck("cpu.nohz_full", .info, saw: "nohz_full: \(nohz.isEmpty ? "none" : DoctorCPUs.format(nohz))",
                                       expected: "hot CPUs in nohz_full", source: src))
            } else if missing.isEmpty {
                out.append(DoctorCheck("cpu.nohz_full", .ok, saw: "nohz_full: \(DoctorCPUs.format(nohz)); covers hot CPUs \(hotText)",
                                       expected: "hot CPUs in nohz_full", source: src))
            } else {
                let extra = isoNotNohz.isEmpty ? "" : " (isolated without nohz_full: \(DoctorCPUs.format(isoNotNohz)); the tick still interrupts them)"
                out.append(DoctorCheck("cpu.nohz_full", .warn,
                                       saw: "nohz_full: \(nohz.isEmpty ? "none" : DoctorCPUs.format(nohz)); hot CPUs without it: \(DoctorCPUs.format(missing))\(extra)",
                                       expected: "hot CPUs in nohz_full", source: src, advice: advice))
            }
        }
    }

    // cpu.rcu_nocbs: rcu_nocbs= or nohz_full= (which implies it) on the command line.
    private func cpuRcuNocbsCheck(_ out: inout [DoctorCheck]) {
        let src = "/proc/cmdline"
        if let cmd = host.cmdline {
            var offloaded: [Int] = []
            var bad: [String] = []
            for key in ["rcu_nocbs", "nohz_full"] {
                guard let v = cmd[key], !v.isEmpty else { continue }
                if let cpus = try? DoctorCPUs.parse(v) { offloaded += cpus } else { bad.append("\(key)=\(v)") }
            }
            if !bad.isEmpty {
                out.append(unknown("cpu.rcu_nocbs", "cannot parse \(bad.joined(separator: ", "))", expected: "hot CPUs in rcu_nocbs", source: src))
            } else if hot.isEmpty {
                out.append(DoctorCheck("cpu.rcu_nocbs", .info, saw: "rcu_nocbs: \(offloaded.isEmpty ? "none" : DoctorCPUs.format(offloaded))",
                                       expected: "hot CPUs in rcu_nocbs", source: src))
            } else {
                let missing = DoctorCPUs.minus(hot, offloaded)
                out.append(missing.isEmpty
                    ? DoctorCheck("cpu.rcu_nocbs", .ok, saw: "RCU callbacks offloaded from \(DoctorCPUs.format(offloaded))",
                                  expected: "hot CPUs in rcu_nocbs (nohz_full implies it)", source: src)
                    : DoctorCheck("cpu.rcu_nocbs", .warn,
                                  saw: "RCU callbacks still run on \(DoctorCPUs.format(missing)) (offloaded: \(offloaded.isEmpty ? "none" : DoctorCPUs.format(DoctorCPUs.intersect(offloaded, offloaded))))",
                                  expected: "hot CPUs in rcu_nocbs (nohz_full implies it)", source: src,
                                  advice: "boot with rcu_nocbs=\(hotText) (nohz_full= sets it too)"))
            }
        } else {
            out.append(unknown("cpu.rcu_nocbs", host.read("/proc/cmdline").reason, expected: "hot CPUs in rcu_nocbs", source: src))
        }
    }

    // cpu.smt: hot CPUs sharing a core (the topology's SMT siblings).
    private func cpuSmtCheck(_ out: inout [DoctorCheck]) {
        let src = "/sys/devices/system/cpu/cpuN/topology/thread_siblings_list"
        let expected = "hot CPUs without an SMT sibling in use"
        let ctl = host.trimmed("/sys/devices/system/cpu/smt/control").map { " (smt/control: \(DoctorHost.excerpt($0)))" } ?? ""
        switch topology {
        case .failure(let p):
            out.append(unknown("cpu.smt", p.reason, expected: expected, source: src))
        case .success(let t):
            var shared: [String] = []
            var unread: [Int] = []
            for cpu in hot {
                guard let info = t.cpu(cpu), !info.smtSiblings.isEmpty else { unread.append(cpu); continue }
                let others = info.smtSiblings.ids.filter { $0 != cpu }
                if !others.isEmpty { shared.append("\(cpu) with \(DoctorCPUs.format(others))") }
            }
            if hot.isEmpty {
                out.append(DoctorCheck("cpu.smt", .info, saw: "no hot CPUs\(ctl)", expected: expected, source: src))
            } else if !shared.isEmpty {
                out.append(DoctorCheck("cpu.smt", .warn, saw: "hot CPUs share a core: " + shared.joined(separator: "; ") + ctl,
                                       expected: expected, source: src,
                                       advice: "keep the sibling idle (isolate it and run nothing there) or turn SMT off (nosmt)"))
            } else if !unread.isEmpty {
                out.append(unknown("cpu.smt", "no readable thread_siblings_list for CPUs \(DoctorCPUs.format(unread))", expected: expected, source: src))
            } else {
                out.append(DoctorCheck("cpu.smt", .ok, saw: "no hot CPU shares its core\(ctl)", expected: expected, source: src))
            }
        }
    }

    // irq.affinity
    private func irqAffinityCheck(_ out: inout [DoctorCheck]) {
        let names = irqNames
        let hotSet = Set(hot)
        let src = "/proc/irq/N/effective_affinity_list, /proc/irq/default_smp_affinity"
        if let irqs = host.list("/proc/irq") {
            var onHot: [String] = []
            var unreadable = 0
            for irq in irqs where Int(irq) != nil {
                var r = host.cpuList("/proc/irq/\(irq)/effective_affinity_list")
                if case .failure = r { r = host.cpuList("/proc/irq/\(irq)/smp_affinity_list") }
                switch r {
                case .success(let cpus):
                    if cpus.contains(where: { hotSet.contains($0) }) {
                        onHot.append("\(irq)\(names[irq].map { " (\($0))" } ?? "") on \(DoctorCPUs.format(cpus))")
                    }
                case .failure: unreadable += 1
                }
            }
            var dflt = ""
            var dfltOnHot = false
            if case .success(let d) = host.cpuMask("/proc/irq/default_smp_affinity") {
                dfltOnHot = d.contains { hotSet.contains($0) }
                dflt = "; default affinity \(DoctorCPUs.format(d))"
            }
            let numbered = irqs.filter { Int($0) != nil }.count
            if hot.isEmpty {
                out.append(DoctorCheck("irq.affinity", .info, saw: "\(numbered) IRQs\(dflt)", expected: "no device IRQ on a hot CPU", source: src))
            } else if numbered > 0 && unreadable == numbered {
                out.append(unknown("irq.affinity", "no /proc/irq/N/*affinity_list could be read", expected: "no device IRQ on a hot CPU", source: src))
            } else if onHot.isEmpty && !dfltOnHot {
                out.append(DoctorCheck("irq.affinity", .ok, saw: "no IRQ targets \(hotText) (\(numbered) IRQs)\(dflt)",
                                       expected: "no device IRQ on a hot CPU", source: src))
            } else {
                let shown = onHot.prefix(6).joined(separator: "; ") + (onHot.count > 6 ? "; and \(onHot.count - 6) more" : "")
                out.append(DoctorCheck("irq.affinity", .warn,
                                       saw: (onHot.isEmpty ? "" : "\(onHot.count) IRQs on hot CPUs: \(shown)") + (dfltOnHot ? "\(onHot.isEmpty ? "" : "; ")new IRQs default to hot CPUs\(dflt)" : ""),
                                       expected: "no device IRQ on a hot CPU", source: src,
                                       advice: "write the housekeeping CPUs to /proc/irq/*/smp_affinity_list and /proc/irq/default_smp_affinity (or boot with irqaffinity=)"))
            }
        } else {
            out.append(unknown("irq.affinity", "cannot list /proc/irq", expected: "no device IRQ on a hot CPU", source: "/proc/irq"))
        }
    }

    // irq.managed: kernel-managed (multi-queue) IRQs ignore affinity writes.
    private func irqManagedCheck(_ out: inout [DoctorCheck]) {
        let names = irqNames
        let hotSet = Set(hot)
        let src = "/proc/cmdline, /sys/kernel/debug/irq/irqs"
        let flags = host.cmdline?["isolcpus"].map(DoctorCPUs.isolcpusFlags) ?? []
        if flags.contains("managed_irq") {
            out.append(DoctorCheck("irq.managed", .ok, saw: "isolcpus has managed_irq: the kernel keeps managed IRQs off isolated CPUs",
                                   expected: "no kernel-managed IRQ on a hot CPU", source: "/proc/cmdline"))
        } else if let irqs = host.list("/sys/kernel/debug/irq/irqs") {
            var managed: [String] = []
            for irq in irqs {
                guard let t = host.read("/sys/kernel/debug/irq/irqs/\(irq)").text, t.containsText("AFFINITY_MANAGED") else { continue }
                if case .success(let cpus) = host.cpuList("/proc/irq/\(irq)/effective_affinity_list"), cpus.contains(where: { hotSet.contains($0) }) {
                    managed.append("\(irq)\(names[irq].map { " (\($0))" } ?? "")")
                }
            }
            out.append(managed.isEmpty
                ? DoctorCheck("irq.managed", .ok, saw: "no kernel-managed IRQ on \(hotText)", expected: "no kernel-managed IRQ on a hot CPU", source: src)
                : DoctorCheck("irq.managed", .warn, saw: "kernel-managed IRQs on hot CPUs: " + managed.prefix(8).joined(separator: ", "),
                              expected: "no kernel-managed IRQ on a hot CPU", source: src,
                              advice: "boot with isolcpus=managed_irq,... so the kernel steers managed IRQs away"))
        } else {
            out.append(unknown("irq.managed", "isolcpus= has no managed_irq flag and /sys/kernel/debug/irq/irqs is not readable (debugfs not mounted)",
                               expected: "no kernel-managed IRQ on a hot CPU", source: src,
                               advice: "boot with isolcpus=managed_irq,domain,<hot CPUs>"))
        }
    }

    // irq.irqbalance
    private func irqIrqbalanceCheck(_ out: inout [DoctorCheck]) {
        let src = "/proc/*/comm"
        if let pids = host.list("/proc") {
            var running: String? = nil
            for pid in pids where pid.first?.isNumber == true {
                if let c = host.trimmed("/proc/\(pid)/comm"), c == "irqbalance" { running = pid; break }
            }
            if let pid = running {
                var banned: [Int] = []
                if let env = host.read("/proc/\(pid)/environ").text {
                    for kv in env.split(separator: "\0") where kv.hasPrefix("IRQBALANCE_BANNED_CPULIST=") {
                        banned += (try? DoctorCPUs.parse(String(kv.dropFirst("IRQBALANCE_BANNED_CPULIST=".count)))) ?? []
                    }
                }
                let respected = Set(((try? host.isolated.get()) ?? []) + ((try? host.nohzFull.get()) ?? []) + banned)
                let exposed = hot.filter { !respected.contains($0) }
                out.append(exposed.isEmpty
                    ? DoctorCheck("irq.irqbalance", .info, saw: "irqbalance runs (pid \(pid)); hot CPUs are isolated, nohz_full or banned, which it leaves alone",
                                  expected: "irqbalance stopped, or hot CPUs banned", source: src)
                    : DoctorCheck("irq.irqbalance", .warn, saw: "irqbalance runs (pid \(pid)) and may move IRQs onto \(DoctorCPUs.format(exposed))",
                                  expected: "irqbalance stopped, or hot CPUs banned", source: src,
                                  advice: "systemctl disable --now irqbalance, or set IRQBALANCE_BANNED_CPULIST=\(hotText)"))
            } else {
                out.append(DoctorCheck("irq.irqbalance", .ok, saw: "irqbalance is not running", expected: "irqbalance stopped, or hot CPUs banned", source: src))
            }
        } else {
            out.append(unknown("irq.irqbalance", "cannot list /proc", expected: "irqbalance stopped, or hot CPUs banned", source: src))
        }
    }

    // cpu.cstates: enabled idle states with exit latency above 2 us on hot CPUs.
    private func cpuCstatesCheck(_ out: inout [DoctorCheck]) {
        let src = "/sys/devices/system/cpu/cpuN/cpuidle/stateK/{name,latency,disable}"
        let expected = "no enabled idle state deeper than 2 us exit latency on hot CPUs"
        let idle = host.cmdline?["idle"]
        var deep: [(Int, String)] = []
        var anyStates = false
        var problem: String? = nil
        for cpu in hot {
            guard let states = host.list(Self.cpuPath(cpu, "cpuidle")) else { continue }
            for st in states where st.hasPrefix("state") {
                anyStates = true
                let base = Self.cpuPath(cpu, "cpuidle/\(st)")
                guard let name = host.trimmed("\(base)/name") else { problem = host.read("\(base)/name").reason; continue }
                let latency: Int64
                switch host.integer("\(base)/latency") { case .success(let v): latency = v; case .failure(let p): problem = p.reason; continue }
                let disabled = (try? host.integer("\(base)/disable").get()) ?? 0
                if disabled == 0 && latency > 2 { deep.append((cpu, "\(name) (\(latency) us)")) }
            }
        }
        if hot.isEmpty {
            out.append(DoctorCheck("cpu.cstates", .info, saw: "no hot CPUs", expected: expected, source: src))
        } else if idle == "poll" {
            out.append(DoctorCheck("cpu.cstates", .ok, saw: "idle=poll: CPUs never enter an idle state", expected: expected, source: "/proc/cmdline"))
        } else if let problem, deep.isEmpty {
            out.append(unknown("cpu.cstates", problem, expected: expected, source: src))
        } else if !anyStates {
            out.append(DoctorCheck("cpu.cstates", .info, saw: "no cpuidle states on hot CPUs (a VM halts through the hypervisor, or cpuidle is off)",
                                   expected: expected, source: src))
        } else if deep.isEmpty {
            out.append(DoctorCheck("cpu.cstates", .ok, saw: "only shallow idle states enabled on \(hotText)", expected: expected, source: src))
        } else {
            out.append(DoctorCheck("cpu.cstates", .warn, saw: "deep idle states enabled: " + Self.grouped(deep), expected: expected, source: src,
                                   advice: "disable them (cpupower idle-set -D 2, or /sys/.../stateK/disable), or keep hot threads busy-polling"))
        }
    }
}
