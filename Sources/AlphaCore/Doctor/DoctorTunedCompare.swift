// `alphacore doctor --tuned PROFILE`: for every setting the profile would apply, whether this host
// already has it, read the way tuned would write it, and which doctor check judges it. Read-only.
import Glibc

/// Whether the host has a tuned setting.
public enum TunedHave: String, Sendable {
    case yes, no, unknown
    /// The doctor does not read this setting (docs/doctor.md says why).
    case notRead = "not-read"
}

public struct TunedRow: Sendable {
    public var setting: TunedSetting
    public var have: TunedHave
    /// What the host has, in words.
    public var host: String
    /// The doctor check that judges the setting, and its verdict here (nil: not checked).
    public var check: String?
    public var checkSeverity: DoctorSeverity?
}

public struct DoctorTunedReport: Sendable {
    public var profile: String
    /// The tuned.conf files read, parents first (or the built-in copy).
    public var sources: [String]
    public var hotCPUs: String
    public var rows: [TunedRow]
}

extension TunedProfiles {
    /// The doctor check judging each tuned setting ("section:key"); a setting not here is listed
    /// in docs/doctor.md with the reason it is not checked.
    static let coverage: [String: String] = [
        "sysctl:vm.dirty_ratio": "vm.dirty", "sysctl:vm.dirty_background_ratio": "vm.dirty",
        "sysctl:vm.swappiness": "vm.swappiness", "sysctl:net.core.busy_read": "net.busy_poll",
        "sysctl:net.core.busy_poll": "net.busy_poll", "sysctl:kernel.numa_balancing": "kernel.numa_balancing",
        "sysctl:kernel.nmi_watchdog": "kernel.watchdog", "sysctl:vm.stat_interval": "vm.stat_interval",
        "sysctl:kernel.timer_migration": "sched.timer_migration", "sysctl:kernel.sched_rt_runtime_us": "sched.rt_throttling",
        "sysfs:/sys/bus/workqueue/devices/writeback/cpumask": "kernel.workqueue",
        "sysfs:/sys/devices/virtual/workqueue/cpumask": "kernel.workqueue",
        "sysfs:/sys/devices/system/machinecheck/machinecheck*/ignore_ce": "mce.ignore_ce",
        "bootloader:skew_tick": "kernel.skew_tick", "bootloader:isolcpus": "cpu.isolated",
        "bootloader:nohz_full": "cpu.nohz_full", "bootloader:rcu_nocbs": "cpu.rcu_nocbs",
        "bootloader:nosoftlockup": "kernel.softlockup", "bootloader:tsc": "clock.source",
        "cpu:force_latency": "cpu.cstates", "cpu:governor": "cpu.governor", "cpu:min_perf_pct": "cpu.min_perf",
        "vm:transparent_hugepages": "mem.thp", "systemd:cpu_affinity": "systemd.cpu_affinity",
        "irqbalance:banned_cpus": "irq.irqbalance", "scheduler:isolated_cores": "cpu.isolated",
    ]
}

extension Doctor {
    /// Compares the host (below `root`) with a tuned profile. Throws EINVAL for bad options and
    /// ENOENT for a profile that is neither installed nor built in (the detail names both).
    public static func compareTuned(_ profile: String, _ options: DoctorOptions, root: String? = nil) throws(Errno) -> DoctorTunedReport {
        let savedDetail = Detail.current
        if profile.isEmpty || profile.contains("/") || profile.hasPrefix(".") || profile.utf8.count > 64 {
            throw Errno.fail(EINVAL, "'\(DoctorHost.excerpt(profile))' is not a tuned profile name")
        }
        let ctx = try context(options, root: root, ethtool: nil)
        let verdicts = Dictionary(ctx.allChecks(probe: false).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        guard let loaded = TunedProfiles.load(profile, host: ctx.host) else {
            throw Errno.fail(ENOENT, "no tuned profile '\(profile)' under \(TunedProfiles.dirs.joined(separator: ", ")) and none built in (\(TunedProfiles.builtIn.joined(separator: ", ")))")
        }
        let (raw, files): ([TunedSetting], [String])
        switch loaded {
        case .success(let x): (raw, files) = x
        case .failure(let p): throw Errno.fail(EINVAL, p.reason)
        }
        let online = (try? ctx.host.online.get()) ?? []
        let expanded = raw.map { s in
            var e = s
            e.value = TunedProfiles.expand(s.value, hot: ctx.hot, online: online)
            return e
        }
        let rows = TunedProfiles.bootParameters(expanded).map { s -> TunedRow in
            var (have, seen) = ctx.tunedHas(s)
            let check = TunedProfiles.coverage[s.name].flatMap { verdicts[$0] }
            if have == .notRead, let c = check {
                // A setting tuned applies by acting (moving threads, banning CPUs): judged by the check.
                have = c.severity == .ok || c.severity == .info ? .yes : c.severity == .unknown ? .unknown : .no
                seen = "judged by \(c.id): \(c.saw)"
            }
            return TunedRow(setting: s, have: have, host: seen, check: TunedProfiles.coverage[s.name], checkSeverity: check?.severity)
        }
        Detail.set(savedDetail)
        return DoctorTunedReport(profile: profile, sources: files, hotCPUs: DoctorCPUs.format(ctx.hot), rows: rows)
    }
}

extension DoctorContext {
    /// Whether the host has one setting, and what it has.
    func tunedHas(_ s: TunedSetting) -> (TunedHave, String) {
        if s.value.containsText("${") { return (.unknown, "the value depends on a tuned variable the doctor cannot know (\(s.value))") }
        switch s.section {
        case "sysctl": return tunedFile("/proc/sys/" + s.key.split(separator: ".").joined(separator: "/"), s.value)
        case "sysfs": return tunedSysfs(s.key, s.value)
        case "bootloader": return tunedBoot(s.key, s.value)
        case "cpu": return tunedCPU(s.key, s.value)
        case "vm" where s.key == "transparent_hugepages":
            switch host.selected("/sys/kernel/mm/transparent_hugepage/enabled") {
            case .success(let v): return (v == s.value ? .yes : .no, "transparent_hugepage/enabled \(v)")
            case .failure(let p): return (.unknown, p.reason)
            }
        case "systemd" where s.key == "cpu_affinity":
            let v = systemdCPUAffinity().value
            return (Self.sameValue(v ?? "", s.value) ? .yes : .no, v.map { "CPUAffinity=\($0)" } ?? "no CPUAffinity= (all CPUs)")
        default: return (.notRead, "the doctor does not read [\(s.section)] \(s.key) (docs/doctor.md says why)")
        }
    }

    /// Equal as numbers, CPU lists or masks, or as words.
    static func sameValue(_ a: String, _ b: String) -> Bool {
        let x = a.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
        let y = b.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
        if x == y { return true }
        if let i = Int64(x), let j = Int64(y) { return i == j }
        // systemd writes CPU lists with spaces ("0 1 2-3"), the kernel with commas.
        let cx = x.split(separator: " ").joined(separator: ","), cy = y.split(separator: " ").joined(separator: ",")
        if let p = try? DoctorCPUs.parse(cx), let q = try? DoctorCPUs.parse(cy) { return p == q }
        return false
    }

    func tunedFile(_ path: String, _ want: String) -> (TunedHave, String) {
        guard let v = host.trimmed(path) else { return (.unknown, host.read(path).reason) }
        return (Self.sameValue(v, want) ? .yes : .no, "\(path) = \(DoctorHost.excerpt(v))")
    }

    /// A sysfs path with `*` components: every matching file must hold the value (masks compared as sets).
    func tunedSysfs(_ pattern: String, _ want: String) -> (TunedHave, String) {
        var paths = [""]
        for part in pattern.split(separator: "/") {
            if let star = part.firstIndex(of: "*") {
                let (pre, post) = (part[..<star], part[part.index(after: star)...])
                paths = paths.flatMap { dir in (host.list(dir) ?? []).filter { $0.hasPrefix(pre) && $0.hasSuffix(post) && $0.count >= pre.count + post.count }.map { "\(dir)/\($0)" } }
            } else {
                paths = paths.map { "\($0)/\(part)" }
            }
        }
        paths = paths.filter { host.exists($0) }
        if paths.isEmpty { return (.unknown, "no file matches \(pattern)") }
        let wantMask = try? DoctorCPUs.parseMask(want)
        var differ: [String] = []
        for p in paths {
            guard let v = host.trimmed(p) else { return (.unknown, host.read(p).reason) }
            let same = wantMask != nil ? (try? DoctorCPUs.parseMask(v)) == wantMask : Self.sameValue(v, want)
            if !same { differ.append("\(p) = \(DoctorHost.excerpt(v))") }
        }
        return differ.isEmpty ? (.yes, "\(paths.count) files hold \(want)")
                              : (.no, "\(differ.count) of \(paths.count) differ: " + differ.prefix(3).joined(separator: "; "))
    }

    func tunedBoot(_ key: String, _ want: String) -> (TunedHave, String) {
        guard let cmd = host.cmdline else { return (.unknown, host.read("/proc/cmdline").reason) }
        guard let v = cmd[key] else { return (.no, "no \(key) on the command line") }
        let shown = v.isEmpty ? key : "\(key)=\(v)"
        if want.isEmpty || Self.sameValue(v, want) { return (.yes, shown) }
        if key == "isolcpus", case .success(let cpus) = DoctorCPUs.parseIsolcpus(v), (try? DoctorCPUs.parse(want)) == cpus { return (.yes, shown) }
        return (.no, shown)
    }

    func tunedCPU(_ key: String, _ want: String) -> (TunedHave, String) {
        switch key {
        case "governor", "energy_perf_bias":
            let file = key == "governor" ? "cpufreq/scaling_governor" : "power/energy_perf_bias"
            let wanted = key == "energy_perf_bias" && want == "performance" ? "0" : want
            var pairs: [(Int, String)] = []
            for cpu in hot {
                guard let v = host.trimmed(Self.cpuPath(cpu, file)) else { return (.unknown, host.read(Self.cpuPath(cpu, file)).reason) }
                pairs.append((cpu, DoctorHost.excerpt(v)))
            }
            if pairs.isEmpty { return (.unknown, "no hot CPUs") }
            return (pairs.allSatisfy { Self.sameValue($0.1, wanted) } ? .yes : .no, Self.grouped(pairs))
        case "min_perf_pct": return tunedFile("/sys/devices/system/cpu/intel_pstate/min_perf_pct", want)
        case "force_latency":
            guard let c = powerChecks().first(where: { $0.id == "cpu.cstates" }) else { return (.unknown, "cpu.cstates did not run") }
            return (c.severity == .ok ? .yes : c.severity == .warn ? .no : .unknown, "cpu.cstates: \(c.saw)")
        default: return (.notRead, "the doctor does not read [cpu] \(key)")
        }
    }
}
