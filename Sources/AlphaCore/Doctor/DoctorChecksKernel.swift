// Clock, scheduler, cgroup and process-environment checks.
import Glibc

extension DoctorContext {
    /// The first "flags" line of /proc/cpuinfo as a set of words, or nil.
    var cpuFlags: Set<Substring>? {
        guard let t = host.read("/proc/cpuinfo").text else { return nil }
        for line in t.split(separator: "\n") where line.hasPrefix("flags") {
            if let c = line.firstIndex(of: ":") { return Set(line[line.index(after: c)...].split(whereSeparator: DoctorHost.isBlank)) }
        }
        return []
    }

    func clockChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        do {
            let src = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
            let expected = "tsc (or another vDSO clocksource: kvm-clock, arch_sys_counter)"
            if let cs = host.trimmed(src) {
                let avail = host.trimmed("/sys/devices/system/clocksource/clocksource0/available_clocksource").map { " (available: \($0))" } ?? ""
                switch cs {
                case "tsc", "arch_sys_counter":
                    out.append(DoctorCheck("clock.source", .ok, saw: "\(cs)\(avail)", expected: expected, source: src))
                case "kvm-clock", "hyperv_clocksource_tsc_page", "xen":
                    out.append(DoctorCheck("clock.source", .info, saw: "\(cs)\(avail): read in the vDSO, slower than tsc",
                                           expected: expected, source: src,
                                           advice: avail.containsText("tsc") ? "with an invariant TSC, boot with clocksource=tsc tsc=reliable" : ""))
                case "hpet", "acpi_pm", "jiffies", "refined-jiffies", "pit":
                    out.append(DoctorCheck("clock.source", .fail, saw: "\(cs)\(avail): every clock_gettime is a system call (microseconds)",
                                           expected: expected, source: src,
                                           advice: "fix the TSC (BIOS, tsc=reliable) and boot with clocksource=tsc; the kernel may have marked it unstable (see dmesg)"))
                default:
                    if cs.isEmpty || cs.containsText(" ") || cs.count > 40 {
                        out.append(unknown("clock.source", "\(src) holds '\(DoctorHost.excerpt(cs))'", expected: expected, source: src))
                    } else {
                        out.append(DoctorCheck("clock.source", .info, saw: "\(cs)\(avail)", expected: expected, source: src))
                    }
                }
            } else {
                out.append(unknown("clock.source", host.read(src).reason, expected: expected, source: src))
            }
        }
        do {
            let src = "/proc/cpuinfo"
            let expected = "constant_tsc and nonstop_tsc (an invariant TSC)"
            if let flags = cpuFlags {
                if flags.isEmpty {
                    if host.read(src).text?.containsText("Features") == true {
                        out.append(DoctorCheck("clock.tsc", .ok, saw: "arm64: the generic timer counts at a constant rate", expected: expected, source: src))
                    } else {
                        out.append(unknown("clock.tsc", "/proc/cpuinfo has no flags line", expected: expected, source: src))
                    }
                } else {
                    let have = ["constant_tsc", "nonstop_tsc"].filter { flags.contains(Substring($0)) }
                    out.append(have.count == 2
                        ? DoctorCheck("clock.tsc", .ok, saw: "constant_tsc nonstop_tsc", expected: expected, source: src)
                        : DoctorCheck("clock.tsc", .warn, saw: have.isEmpty ? "no invariant TSC flags" : "only \(have.joined(separator: " "))",
                                      expected: expected, source: src,
                                      advice: "cycle counts may drift with frequency or idle; use alphacore_now_ns (CLOCK_MONOTONIC) for cross-CPU timestamps"))
                }
            } else {
                out.append(unknown("clock.tsc", host.read(src).reason, expected: expected, source: src))
            }
        }
        return out
    }

    /// A sysctl integer against the value a tuned host has.
    func sysctl(_ id: String, _ path: String, expected: String, _ judge: (Int64) -> (DoctorSeverity, String, String)) -> DoctorCheck {
        switch host.integer(path) {
        case .success(let v):
            let (sev, saw, advice) = judge(v)
            return DoctorCheck(id, sev, saw: saw, expected: expected, source: path, advice: advice)
        case .failure(let p):
            return unknown(id, p.reason, expected: expected, source: path)
        }
    }

    func schedulerChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        out.append(sysctl("sched.rt_throttling", "/proc/sys/kernel/sched_rt_runtime_us", expected: "-1 (a real-time thread may run 100%)") { v in
            if v < 0 { return (.ok, "sched_rt_runtime_us = -1: no real-time throttling", "") }
            let period = (try? self.host.integer("/proc/sys/kernel/sched_rt_period_us").get()) ?? 1_000_000
            return (.warn, "sched_rt_runtime_us = \(v) of \(period): a spinning SCHED_FIFO thread is stopped for \(DoctorFormat.nanos(max(0, period - v) * 1000)) every \(DoctorFormat.nanos(period * 1000))",
                    "sysctl -w kernel.sched_rt_runtime_us=-1 (only with a housekeeping CPU left for the kernel)")
        })
        out.append(sysctl("sched.autogroup", "/proc/sys/kernel/sched_autogroup_enabled", expected: "0 (nice values apply process-wide)") { v in
            v == 0 ? (.ok, "autogroup off", "")
                   : (.warn, "autogroup on: nice values only weigh threads within their session's group", "sysctl -w kernel.sched_autogroup_enabled=0 (or boot with noautogroup)")
        })
        out.append(sysctl("sched.timer_migration", "/proc/sys/kernel/timer_migration", expected: "0 (timers stay where they were armed)") { v in
            v == 0 ? (.ok, "timer migration off", "")
                   : (.warn, "timer_migration = \(v): timers may be moved onto busy CPUs", "sysctl -w kernel.timer_migration=0")
        })

        // kernel.watchdog: the lockup detector's hrtimer runs on every CPU of watchdog_cpumask.
        do {
            let src = "/proc/sys/kernel/watchdog, /proc/sys/kernel/watchdog_cpumask"
            let expected = "watchdog off, or hot CPUs outside watchdog_cpumask"
            switch (host.integer("/proc/sys/kernel/watchdog"), host.cpuList("/proc/sys/kernel/watchdog_cpumask")) {
            case (.success(0), _):
                out.append(DoctorCheck("kernel.watchdog", .ok, saw: "lockup watchdog off", expected: expected, source: src))
            case (.success, .success(let mask)):
                let onHot = DoctorCPUs.intersect(hot, mask)
                out.append(onHot.isEmpty
                    ? DoctorCheck("kernel.watchdog", .ok, saw: "watchdog on \(DoctorCPUs.format(mask)), not on hot CPUs", expected: expected, source: src)
                    : DoctorCheck("kernel.watchdog", .warn, saw: "watchdog timer runs on hot CPUs \(DoctorCPUs.format(onHot))", expected: expected, source: src,
                                  advice: "write the housekeeping CPUs to /proc/sys/kernel/watchdog_cpumask (nohz_full= does it at boot), or nowatchdog"))
            case (.failure(let p), _), (_, .failure(let p)):
                out.append(unknown("kernel.watchdog", p.reason, expected: expected, source: src))
            }
        }

        // kernel.workqueue: unbound workqueue workers may run on these CPUs.
        do {
            let src = "/sys/devices/virtual/workqueue/cpumask"
            let expected = "hot CPUs outside the unbound workqueue cpumask"
            switch host.cpuMask(src) {
            case .success(let mask):
                let onHot = DoctorCPUs.intersect(hot, mask)
                out.append(onHot.isEmpty
                    ? DoctorCheck("kernel.workqueue", .ok, saw: "unbound workqueues on \(DoctorCPUs.format(mask))", expected: expected, source: src)
                    : DoctorCheck("kernel.workqueue", .warn, saw: "unbound workqueues may run on hot CPUs \(DoctorCPUs.format(onHot)) (mask \(DoctorCPUs.format(mask)))",
                                  expected: expected, source: src, advice: "write the housekeeping CPUs' mask to \(src) (or boot with workqueue.unbound_cpus=)"))
            case .failure(let p):
                out.append(unknown("kernel.workqueue", p.reason, expected: expected, source: src))
            }
        }
        return out
    }

    func cgroupChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        cgroupCpusetCheck(&out)
        cgroupCpuQuotaCheck(&out)
        cgroupRtBudgetCheck(&out)
        return out
    }

    /// A soft limit from /proc/self/limits: nil for unlimited; or why unknown.
    private func limit(_ name: String) -> Result<Int64?, DoctorProblem> {
        guard let t = host.read("/proc/self/limits").text else { return .failure(DoctorProblem(host.read("/proc/self/limits").reason)) }
        for line in t.split(separator: "\n") where line.hasPrefix(name) {
            let f = line.dropFirst(name.count).split(whereSeparator: DoctorHost.isBlank)
            guard let soft = f.first else { break }
            if soft == "unlimited" { return .success(nil) }
            if let v = Int64(soft) { return .success(v) }
            break
        }
        return .failure(DoctorProblem("/proc/self/limits has no readable '\(name)' line"))
    }

    func processChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        limitsMemlockCheck(&out)
        limitsRtprioCheck(&out)
        procCapabilitiesCheck(&out)
        procSeccompCheck(&out)
        ioUringDisabledCheck(&out)
        // io.uring_probe: what the reader actually gets here (live only): a tiny reader runs the
        // IO capability's probe (ring, opcode probe, NOP round trip) and says which backend.
        if host.live {
            let expected = "the reader runs on io_uring"
            var o = ReaderOptions()
            o.capacity = 1
            o.bufferSize = 64
            o.bufferCount = 2
            do throws(Errno) {
                let r = try Reader(o)
                let d = r.details
                r.destroy()
                out.append(d.backend == .ioURing
                    ? DoctorCheck("io.uring_probe", .ok, saw: "io_uring works: \(d.reason)", expected: expected, source: "io_uring_setup(2)")
                    : DoctorCheck("io.uring_probe", .warn, saw: "the reader falls back to epoll: \(d.reason)", expected: expected, source: "io_uring_setup(2)",
                                  advice: "io_uring refused at \(d.uringStage.isEmpty ? "setup" : d.uringStage) (\(Errno(d.uringErrno).description)): allow io_uring in the seccomp profile, kernel.io_uring_disabled=0, or raise RLIMIT_MEMLOCK"))
            } catch {
                out.append(unknown("io.uring_probe", "a reader could not be created: \(Detail.current)", expected: expected, source: "io_uring_setup(2)"))
            }
        }
        return out
    }

    // cgroup.cpuset: the CPU capability's cgroup cpuset (Topology.cgroup).
    private func cgroupCpusetCheck(_ out: inout [DoctorCheck]) {
        let expected = "hot CPUs inside the cgroup cpuset"
        switch topology {
        case .failure(let p):
            out.append(unknown("cgroup.cpuset", p.reason, expected: expected, source: "/proc/self/cgroup, /proc/self/mountinfo"))
        case .success(let t):
            if let cg = t.cgroup {
                let cpus = cg.cpus.ids
                let file = DoctorHost.stripRoot(cg.file, root: host.root)
                let outside = DoctorCPUs.minus(hot, cpus)
                let limited = cg.cpus != t.online ? " (of online \(t.online.cpulist))" : ""
                out.append(outside.isEmpty
                    ? DoctorCheck("cgroup.cpuset", .ok, saw: "cgroup v\(cg.version) cpuset \(cg.cpus.cpulist)\(limited)", expected: expected, source: file)
                    : DoctorCheck("cgroup.cpuset", .fail, saw: "cgroup v\(cg.version) cpuset \(cg.cpus.cpulist)\(limited) excludes hot CPUs \(DoctorCPUs.format(outside))",
                                  expected: expected, source: file,
                                  advice: "run the container with --cpuset-cpus covering the engine's CPUs, or choose CPUs inside \(cg.cpus.cpulist)"))
            } else {
                out.append(DoctorCheck("cgroup.cpuset", .ok, saw: "no cpuset controller bounds this process", expected: expected,
                                       source: "/proc/self/cgroup, /proc/self/mountinfo"))
            }
        }
    }

    // cgroup.cpu_quota
    private func cgroupCpuQuotaCheck(_ out: inout [DoctorCheck]) {
        let expected = "no CFS quota (cpu.max = max): a quota throttles pinned threads"
        switch cgroup.quotas {
        case .failure(let p):
            out.append(unknown("cgroup.cpu_quota", p.reason, expected: expected, source: "/sys/fs/cgroup"))
        case .success(let qs):
            if let q = qs.first {
                let cpus = Double(Int(q.cpus * 100)) / 100
                let thr = q.throttled.map { $0 > 0 ? "; throttled \($0) times so far" : "; not throttled yet" } ?? ""
                out.append(DoctorCheck("cgroup.cpu_quota", .fail,
                                       saw: "\(cgroup.versionName) quota \(q.quota) us per \(q.period) us = \(cpus) CPUs for the group\(thr)",
                                       expected: expected, source: q.source,
                                       advice: "a spinning thread uses a whole CPU: drop the quota (docker --cpus, Kubernetes CPU limits) and use a cpuset instead"))
            } else {
                out.append(DoctorCheck("cgroup.cpu_quota", .ok, saw: "\(cgroup.versionName): no CPU quota up to the root", expected: expected, source: "/sys/fs/cgroup"))
            }
        }
    }

    // cgroup.rt_budget: v1 RT group scheduling gives a child cgroup 0 us by default.
    private func cgroupRtBudgetCheck(_ out: inout [DoctorCheck]) {
        let expected = "a real-time budget for the process's cgroup (cpu.rt_runtime_us > 0), or none configured"
        if case .success(.v1) = cgroup.version, let dir = cgroup.cpuDirs.first, host.exists("\(dir)/cpu.rt_runtime_us") {
            let src = "\(dir)/cpu.rt_runtime_us"
            switch host.integer(src) {
            case .success(let v) where v == 0:
                out.append(DoctorCheck("cgroup.rt_budget", .warn, saw: "cpu.rt_runtime_us = 0: SCHED_FIFO and SCHED_RR fail with EPERM in this cgroup",
                                       expected: expected, source: src, advice: "give the cgroup a budget (echo 950000 > \(src)) or run in the root cgroup"))
            case .success(let v):
                out.append(DoctorCheck("cgroup.rt_budget", .ok, saw: "cpu.rt_runtime_us = \(v)", expected: expected, source: src))
            case .failure(let p):
                out.append(unknown("cgroup.rt_budget", p.reason, expected: expected, source: src))
            }
        } else if case .failure(let p) = cgroup.version {
            out.append(unknown("cgroup.rt_budget", p.reason, expected: expected, source: "/sys/fs/cgroup"))
        } else {
            out.append(DoctorCheck("cgroup.rt_budget", .ok, saw: "\(cgroup.versionName): no real-time group budget applies", expected: expected, source: "/sys/fs/cgroup"))
        }
    }

    // limits.memlock
    private func limitsMemlockCheck(_ out: inout [DoctorCheck]) {
        let ipcLock = hasCapability(14) == true
        let need = options.hugepages.reduce(Int64(0)) { $0 + Int64($1.pageKiB) * 1024 * Int64($1.count) }
        let want = max(need, 64 << 20)
        let expected = "unlimited, CAP_IPC_LOCK, or at least \(DoctorFormat.bytes(want)) (the memory the engine locks)"
        switch limit("Max locked memory") {
        case .failure(let p): out.append(unknown("limits.memlock", p.reason, expected: expected, source: "/proc/self/limits"))
        case .success(nil): out.append(DoctorCheck("limits.memlock", .ok, saw: "unlimited", expected: expected, source: "/proc/self/limits"))
        case .success(let v?):
            if ipcLock {
                out.append(DoctorCheck("limits.memlock", .ok, saw: "\(DoctorFormat.bytes(v)), but CAP_IPC_LOCK lifts the limit", expected: expected, source: "/proc/self/limits"))
            } else {
                out.append(DoctorCheck("limits.memlock", v >= want ? .ok : .warn, saw: DoctorFormat.bytes(v), expected: expected, source: "/proc/self/limits",
                                       advice: v >= want ? "" : "raise it (ulimit -l unlimited, LimitMEMLOCK=infinity, docker --ulimit memlock=-1) or grant CAP_IPC_LOCK; a small limit also caps io_uring rings"))
            }
        }
    }

    // limits.rtprio
    private func limitsRtprioCheck(_ out: inout [DoctorCheck]) {
        let sysNice = hasCapability(23) == true
        let expected = "RLIMIT_RTPRIO > 0 or CAP_SYS_NICE, if the engine uses SCHED_FIFO"
        switch limit("Max realtime priority") {
        case .failure(let p): out.append(unknown("limits.rtprio", p.reason, expected: expected, source: "/proc/self/limits"))
        case .success(let v):
            if sysNice {
                out.append(DoctorCheck("limits.rtprio", .ok, saw: "\(v.map(String.init) ?? "unlimited"), and CAP_SYS_NICE allows any priority", expected: expected, source: "/proc/self/limits"))
            } else if (v ?? 1) > 0 {
                out.append(DoctorCheck("limits.rtprio", .ok, saw: "real-time priorities up to \(v.map(String.init) ?? "99")", expected: expected, source: "/proc/self/limits"))
            } else {
                out.append(DoctorCheck("limits.rtprio", .warn, saw: "0 without CAP_SYS_NICE: SCHED_FIFO is refused (EPERM)", expected: expected, source: "/proc/self/limits",
                                       advice: "set rtprio in /etc/security/limits.conf (LimitRTPRIO= under systemd) or grant CAP_SYS_NICE"))
            }
        }
    }

    // proc.capabilities
    private func procCapabilitiesCheck(_ out: inout [DoctorCheck]) {
        let ipcLock = hasCapability(14) == true
        let sysNice = hasCapability(23) == true
        let expected = "CAP_SYS_NICE and CAP_IPC_LOCK for real-time priority and locked memory"
        if capabilities == nil {
            out.append(unknown("proc.capabilities", host.status == nil ? host.read("/proc/self/status").reason : "/proc/self/status has no readable CapEff",
                               expected: expected, source: "/proc/self/status"))
        } else {
            var have: [String] = []
            var lack: [String] = []
            for (bit, name) in [(23, "CAP_SYS_NICE"), (14, "CAP_IPC_LOCK"), (24, "CAP_SYS_RESOURCE"), (21, "CAP_SYS_ADMIN")] {
                if hasCapability(bit) == true { have.append(name) } else { lack.append(name) }
            }
            let ok = sysNice && ipcLock
            out.append(DoctorCheck("proc.capabilities", ok ? .ok : .info,
                                   saw: (have.isEmpty ? "none of interest" : "has \(have.joined(separator: " "))") + (lack.isEmpty ? "" : "; lacks \(lack.joined(separator: " "))"),
                                   expected: expected, source: "/proc/self/status",
                                   advice: ok ? "" : "setcap cap_sys_nice,cap_ipc_lock+ep on the engine, or AmbientCapabilities= under systemd"))
        }
    }

    // proc.seccomp
    private func procSeccompCheck(_ out: inout [DoctorCheck]) {
        let expected = "no seccomp filter, or one that allows io_uring and the NUMA calls"
        if let mode = host.status?["Seccomp"] {
            let filters = host.status?["Seccomp_filters"].map { " (\($0) filters)" } ?? ""
            switch mode {
            case "0": out.append(DoctorCheck("proc.seccomp", .ok, saw: "no seccomp filter", expected: expected, source: "/proc/self/status"))
            case "2": out.append(DoctorCheck("proc.seccomp", .warn, saw: "seccomp filter mode\(filters): io_uring_setup and the NUMA policy calls may be refused",
                                             expected: expected, source: "/proc/self/status",
                                             advice: "allow io_uring_setup/enter/register, mbind, set_mempolicy, get_mempolicy, move_pages in the profile; the reader falls back to epoll otherwise"))
            case "1": out.append(DoctorCheck("proc.seccomp", .fail, saw: "strict seccomp: only read, write, exit and sigreturn", expected: expected, source: "/proc/self/status"))
            default: out.append(unknown("proc.seccomp", "Seccomp: '\(DoctorHost.excerpt(mode))'", expected: expected, source: "/proc/self/status"))
            }
        } else {
            out.append(unknown("proc.seccomp", host.status == nil ? host.read("/proc/self/status").reason : "/proc/self/status has no Seccomp line",
                               expected: expected, source: "/proc/self/status"))
        }
    }

    // io.uring_disabled
    private func ioUringDisabledCheck(_ out: inout [DoctorCheck]) {
        let path = "/proc/sys/kernel/io_uring_disabled"
        let expected = "0 (io_uring available to every process)"
        switch host.integer(path) {
        case .success(0): out.append(DoctorCheck("io.uring_disabled", .ok, saw: "io_uring_disabled = 0", expected: expected, source: path))
        case .success(1):
            let gid = (try? host.integer("/proc/sys/kernel/io_uring_group").get()).map { " (group \($0))" } ?? ""
            out.append(DoctorCheck("io.uring_disabled", .warn, saw: "io_uring_disabled = 1: only root and io_uring_group\(gid) may create rings", expected: expected, source: path,
                                   advice: "add the engine's user to kernel.io_uring_group, or sysctl -w kernel.io_uring_disabled=0; otherwise the reader runs on epoll"))
        case .success(let v):
            out.append(DoctorCheck("io.uring_disabled", .warn, saw: "io_uring_disabled = \(v): io_uring refused for everyone; the reader runs on epoll", expected: expected, source: path,
                                   advice: "sysctl -w kernel.io_uring_disabled=0"))
        case .failure(let p):
            if host.exists("/proc/sys/kernel") && !host.exists(path) {
                out.append(DoctorCheck("io.uring_disabled", .info, saw: "no io_uring_disabled sysctl (kernel before 6.6): not disabled by sysctl", expected: expected, source: path))
            } else {
                out.append(unknown("io.uring_disabled", p.reason, expected: expected, source: path))
            }
        }
    }
}
