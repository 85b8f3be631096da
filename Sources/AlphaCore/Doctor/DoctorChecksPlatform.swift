// systemd's CPUAffinity for system services, the P-state driver's performance floor and the
// machine-check corrected-error polling: platform settings tuned's profiles apply.
import Glibc

extension DoctorContext {
    /// systemd's CPUAffinity= from system.conf and its drop-ins (later files win; an empty value
    /// resets): nil when none is set; the files read.
    func systemdCPUAffinity() -> (value: String?, files: [String]) {
        var files = ["/etc/systemd/system.conf"]
        for dir in ["/usr/lib/systemd/system.conf.d", "/etc/systemd/system.conf.d"] {
            files += (host.list(dir) ?? []).filter { $0.hasSuffix(".conf") }.map { "\(dir)/\($0)" }
        }
        var value: String? = nil
        var read: [String] = []
        for f in files {
            guard let text = host.read(f).text else { continue }
            read.append(f)
            var inManager = false
            for raw in text.split(separator: "\n") {
                let line = SysFile.trim(raw)
                if line.hasPrefix("[") { inManager = line == "[Manager]"; continue }
                guard inManager, line.hasPrefix("CPUAffinity="), !line.hasPrefix("#") else { continue }
                let v = SysFile.trim(line.dropFirst("CPUAffinity=".count))
                value = v.isEmpty ? nil : v
            }
        }
        return (value, read)
    }

    func systemdAffinityCheck() -> DoctorCheck {
        let id = "systemd.cpu_affinity"
        let expected = "system services kept off the hot CPUs (CPUAffinity= in system.conf, or isolcpus)"
        let src = "/etc/systemd/system.conf (and system.conf.d)"
        if !host.exists("/etc/systemd") {
            return DoctorCheck(id, .info, saw: "no /etc/systemd: not a systemd host", expected: expected, source: src)
        }
        let (value, files) = systemdCPUAffinity()
        if let conf = host.read("/etc/systemd/system.conf").text, !conf.containsText("[Manager]") {
            return unknown(id, "/etc/systemd/system.conf holds '\(DoctorHost.excerpt(conf))', no [Manager] section", expected: expected, source: src)
        }
        let iso = (try? host.isolated.get()) ?? []
        guard let value else {
            let exposed = DoctorCPUs.minus(hot, iso)
            let saw = "no CPUAffinity= in \(files.isEmpty ? "system.conf (absent)" : files.joined(separator: ", "))"
            return exposed.isEmpty
                ? DoctorCheck(id, .ok, saw: saw + "; hot CPUs are isolated, which keeps services off them", expected: expected, source: src)
                : DoctorCheck(id, .warn, saw: saw + ": services may run on hot CPUs \(DoctorCPUs.format(exposed))", expected: expected, source: src,
                              advice: "set CPUAffinity=<housekeeping CPUs> under [Manager] in /etc/systemd/system.conf and reboot (tuned cpu-partitioning does)")
        }
        let list = value.split(whereSeparator: { $0 == " " || $0 == "," }).joined(separator: ",")
        guard let cpus = try? DoctorCPUs.parse(list) else {
            return unknown(id, "CPUAffinity=\(DoctorHost.excerpt(value)) is not a CPU list", expected: expected, source: src)
        }
        let onHot = DoctorCPUs.intersect(hot, cpus)
        return onHot.isEmpty
            ? DoctorCheck(id, .ok, saw: "CPUAffinity=\(DoctorCPUs.format(cpus)): services stay off \(hotText)", expected: expected, source: src)
            : DoctorCheck(id, .warn, saw: "CPUAffinity=\(DoctorCPUs.format(cpus)) allows services on hot CPUs \(DoctorCPUs.format(onHot))",
                          expected: expected, source: src, advice: "leave the hot CPUs out of CPUAffinity= and reboot")
    }

    func minPerfCheck() -> DoctorCheck {
        let id = "cpu.min_perf"
        let expected = "the P-state floor at 100% (intel_pstate min_perf_pct) or the minimum frequency at nominal (amd_pstate)"
        let intel = "/sys/devices/system/cpu/intel_pstate"
        if host.exists(intel) {
            let status = host.trimmed("\(intel)/status") ?? "active"
            let src = "\(intel)/min_perf_pct"
            if status == "off" { return DoctorCheck(id, .info, saw: "intel_pstate is off: the cpufreq driver's governor sets the floor (see cpu.governor)", expected: expected, source: "\(intel)/status") }
            switch host.integer(src) {
            case .success(let v) where v >= 100: return DoctorCheck(id, .ok, saw: "intel_pstate (\(status)) min_perf_pct = \(v)", expected: expected, source: src)
            case .success(let v):
                return DoctorCheck(id, .warn, saw: "intel_pstate (\(status)) min_perf_pct = \(v): cores may clock down to \(v)% between bursts",
                                   expected: expected, source: src, advice: "echo 100 > \(src) (tuned latency-performance sets it)")
            case .failure(let p): return unknown(id, p.reason, expected: expected, source: src)
            }
        }
        if host.exists("/sys/devices/system/cpu/amd_pstate") { return amdMinPerf(id, expected: expected) }
        let driver = hot.first.flatMap { host.trimmed(Self.cpuPath($0, "cpufreq/scaling_driver")) }
        return DoctorCheck(id, .info, saw: driver.map { "cpufreq driver \(DoctorHost.excerpt($0)): no P-state floor; the governor sets the frequency (see cpu.governor)" }
                                         ?? "no intel_pstate or amd_pstate: frequency is set by the firmware, the hypervisor or another driver",
                           expected: expected, source: "/sys/devices/system/cpu/intel_pstate, /sys/devices/system/cpu/amd_pstate")
    }

    private func amdMinPerf(_ id: String, expected: String) -> DoctorCheck {
        let src = "/sys/devices/system/cpu/cpuN/cpufreq/{scaling_min_freq,amd_pstate_nominal_freq}"
        var low: [(Int, String)] = []
        var seen: [(Int, String)] = []
        for cpu in hot {
            let minR = host.integer(Self.cpuPath(cpu, "cpufreq/scaling_min_freq"))
            var nomR = host.integer(Self.cpuPath(cpu, "cpufreq/amd_pstate_nominal_freq"))
            if case .failure = nomR { nomR = host.integer(Self.cpuPath(cpu, "cpufreq/cpuinfo_max_freq")) }
            guard case .success(let mn) = minR, case .success(let nom) = nomR else {
                if case .failure(let p) = minR { return unknown(id, p.reason, expected: expected, source: src) }
                if case .failure(let p) = nomR { return unknown(id, p.reason, expected: expected, source: src) }
                continue
            }
            let text = "min \(mn / 1000) MHz of nominal \(nom / 1000) MHz"
            seen.append((cpu, text))
            if mn < nom { low.append((cpu, text)) }
        }
        if hot.isEmpty { return DoctorCheck(id, .info, saw: "amd_pstate; no hot CPUs", expected: expected, source: src) }
        return low.isEmpty
            ? DoctorCheck(id, .ok, saw: "amd_pstate: " + Self.grouped(seen), expected: expected, source: src)
            : DoctorCheck(id, .warn, saw: "amd_pstate: " + Self.grouped(low), expected: expected, source: src,
                          advice: "write the nominal frequency to scaling_min_freq of the hot CPUs (cpupower frequency-set -d <nominal>)")
    }

    func ignoreCECheck() -> DoctorCheck {
        let id = "mce.ignore_ce"
        let base = "/sys/devices/system/machinecheck"
        let src = "\(base)/machinecheckN/ignore_ce"
        let expected = "1 (no corrected-error polling timer on the hot CPUs)"
        if host.cmdline?["mce"]?.containsText("ignore_ce") == true {
            return DoctorCheck(id, .ok, saw: "mce=ignore_ce on the command line", expected: expected, source: "/proc/cmdline")
        }
        guard host.exists(base) else {
            return DoctorCheck(id, .info, saw: "no \(base): no x86 machine-check polling here (another architecture, or a VM without MCE)", expected: expected, source: base)
        }
        var polling: [Int] = []
        for cpu in hot {
            switch host.integer("\(base)/machinecheck\(cpu)/ignore_ce") {
            case .success(let v): if v == 0 { polling.append(cpu) }
            case .failure(let p): return unknown(id, p.reason, expected: expected, source: src)
            }
        }
        if hot.isEmpty { return DoctorCheck(id, .info, saw: "no hot CPUs", expected: expected, source: src) }
        return polling.isEmpty
            ? DoctorCheck(id, .ok, saw: "ignore_ce = 1 on \(hotText)", expected: expected, source: src)
            : DoctorCheck(id, .warn, saw: "ignore_ce = 0 on \(DoctorCPUs.format(polling)): a timer polls the machine-check banks every check_interval (300 s) on each CPU",
                          expected: expected, source: src, advice: "echo 1 > \(base)/machinecheck*/ignore_ce (tuned cpu-partitioning does), or boot with mce=ignore_ce")
    }
}
