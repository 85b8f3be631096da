// The settings tuned's latency profiles apply that the older checks did not look at: NUMA
// balancing, busy polling, the tick skew, vmstat, dirty-page writeback, swappiness, the soft
// lockup detector, systemd's CPUAffinity, the P-state minimum and machine-check polling.
import Glibc

extension DoctorContext {
    func tuningChecks() -> [DoctorCheck] {
        var out: [DoctorCheck] = [numaBalancingCheck(), busyPollCheck(), skewTickCheck()]
        out.append(sysctl("vm.stat_interval", "/proc/sys/vm/stat_interval", expected: "10 s or more (tuned cpu-partitioning: 10)") { v in
            v >= 10 ? (.ok, "stat_interval = \(v) s", "")
                    : (.warn, "stat_interval = \(v) s: the vmstat worker wakes every CPU with dirty counters every \(v) s",
                       "sysctl -w vm.stat_interval=10")
        })
        out.append(dirtyCheck())
        out.append(sysctl("vm.swappiness", "/proc/sys/vm/swappiness", expected: "10 or less (tuned latency-performance: 10)") { v in
            v <= 10 ? (.ok, "swappiness = \(v)", "")
                    : (.warn, "swappiness = \(v): the kernel swaps anonymous pages out early", "sysctl -w vm.swappiness=10 (and lock the engine's memory)")
        })
        out.append(softLockupCheck())
        out.append(systemdAffinityCheck())
        out.append(minPerfCheck())
        out.append(ignoreCECheck())
        return out
    }

    /// The number of NUMA nodes (1 when unknown or without NUMA).
    var nodeCount: Int { (try? topology.get().nodes.count).map { max(1, $0) } ?? 1 }

    func numaBalancingCheck() -> DoctorCheck {
        let src = "/proc/sys/kernel/numa_balancing"
        let expected = "0 (pages of pinned threads stay where they were placed)"
        switch host.integer(src) {
        case .success(0): return DoctorCheck("kernel.numa_balancing", .ok, saw: "NUMA balancing off", expected: expected, source: src)
        case .success(let v):
            let nodes = nodeCount
            return nodes > 1
                ? DoctorCheck("kernel.numa_balancing", .warn, saw: "numa_balancing = \(v) on \(nodes) nodes: the kernel unmaps pages to sample accesses and migrates them behind pinned threads",
                              expected: expected, source: src, advice: "sysctl -w kernel.numa_balancing=0 (or boot with numa_balancing=disable)")
                : DoctorCheck("kernel.numa_balancing", .info, saw: "numa_balancing = \(v), but one node: nothing to migrate",
                              expected: expected, source: src, advice: "sysctl -w kernel.numa_balancing=0")
        case .failure(let p):
            if host.exists("/proc/sys/kernel/sched_rt_runtime_us") && !host.exists(src) {
                return DoctorCheck("kernel.numa_balancing", .ok, saw: "no numa_balancing sysctl: the kernel has no automatic NUMA balancing", expected: expected, source: src)
            }
            return unknown("kernel.numa_balancing", p.reason, expected: expected, source: src)
        }
    }

    func busyPollCheck() -> DoctorCheck {
        let src = "/proc/sys/net/core/busy_read, /proc/sys/net/core/busy_poll"
        let profile = options.profile
        let expected: String
        switch profile {
        case .latency: expected = "busy_read and busy_poll above 0 for the latency profile (tuned network-latency: 50 us each)"
        case .spin: expected = "any: the spin profile polls from user space and never sleeps in the kernel"
        case .throughput: expected = "0 for the throughput profile (kernel busy polling spends the CPU the reader sleeps to save)"
        }
        let (r, p): (Int64, Int64)
        switch host.integers("/proc/sys/net/core/busy_read", "/proc/sys/net/core/busy_poll") {
        case .success(let v): (r, p) = v
        case .failure(let why): return unknown("net.busy_poll", why.reason, expected: expected, source: src)
        }
        let saw = "busy_read = \(r) us, busy_poll = \(p) us (reader profile \(profile.rawValue))"
        switch profile {
        case .latency:
            return r > 0 && p > 0 ? DoctorCheck("net.busy_poll", .ok, saw: saw, expected: expected, source: src)
                : DoctorCheck("net.busy_poll", .warn, saw: saw + ": a waiting reader sleeps until the NIC interrupts and the softirq runs",
                              expected: expected, source: src, advice: "sysctl -w net.core.busy_read=50 net.core.busy_poll=50")
        case .spin:
            return DoctorCheck("net.busy_poll", .info, saw: saw, expected: expected, source: src)
        case .throughput:
            return r == 0 && p == 0 ? DoctorCheck("net.busy_poll", .ok, saw: saw, expected: expected, source: src)
                : DoctorCheck("net.busy_poll", .info, saw: saw + ": every wait spins in the kernel first", expected: expected, source: src,
                              advice: "sysctl -w net.core.busy_read=0 net.core.busy_poll=0, or run the reader with the latency profile")
        }
    }

    func skewTickCheck() -> DoctorCheck {
        let expected = "skew_tick=1 (CPUs' ticks offset, no jiffies-lock contention at each tick)"
        guard let cmd = host.cmdline else { return unknown("kernel.skew_tick", host.read("/proc/cmdline").reason, expected: expected, source: "/proc/cmdline") }
        if let v = cmd["skew_tick"], v != "0" {
            return DoctorCheck("kernel.skew_tick", .ok, saw: "skew_tick=\(v)", expected: expected, source: "/proc/cmdline")
        }
        return DoctorCheck("kernel.skew_tick", .warn, saw: cmd["skew_tick"] == nil ? "no skew_tick= on the command line: every CPU ticks at the same instant"
                                                                                    : "skew_tick=0", expected: expected, source: "/proc/cmdline",
                           advice: "boot with skew_tick=1 (tuned network-latency adds it)")
    }

    func dirtyCheck() -> DoctorCheck {
        let base = "/proc/sys/vm/"
        let src = "\(base)dirty_ratio, \(base)dirty_background_ratio"
        let expected = "dirty_ratio 10 or less and dirty_background_ratio 3 or less (tuned latency-performance)"
        var values: [Int64] = []
        for f in ["dirty_ratio", "dirty_background_ratio", "dirty_bytes", "dirty_background_bytes"] {
            switch host.integer(base + f) {
            case .success(let v): values.append(v)
            case .failure(let p):
                if f.hasSuffix("bytes") { values.append(0) } else { return unknown("vm.dirty", p.reason, expected: expected, source: src) }
            }
        }
        let (ratio, bg, bytes, bgBytes) = (values[0], values[1], values[2], values[3])
        let fg = bytes > 0 ? "dirty_bytes \(DoctorFormat.bytes(bytes))" : "dirty_ratio \(ratio)%"
        let back = bgBytes > 0 ? "dirty_background_bytes \(DoctorFormat.bytes(bgBytes))" : "dirty_background_ratio \(bg)%"
        let saw = "\(fg), \(back)"
        if bytes > 0 || bgBytes > 0 {
            return DoctorCheck("vm.dirty", .info, saw: saw + " (set in bytes: judge them against this host's memory)", expected: expected, source: src)
        }
        if ratio <= 10 && bg <= 3 { return DoctorCheck("vm.dirty", .ok, saw: saw, expected: expected, source: src) }
        return DoctorCheck("vm.dirty", .warn, saw: saw + ": writeback starts late and comes in large bursts that stall writers (a journal, a log)",
                           expected: expected, source: src, advice: "sysctl -w vm.dirty_ratio=10 vm.dirty_background_ratio=3")
    }

    func softLockupCheck() -> DoctorCheck {
        let src = "/proc/cmdline, /proc/sys/kernel/soft_watchdog, /proc/sys/kernel/watchdog_cpumask"
        let expected = "nosoftlockup, soft_watchdog 0, or hot CPUs outside watchdog_cpumask"
        guard let cmd = host.cmdline else { return unknown("kernel.softlockup", host.read("/proc/cmdline").reason, expected: expected, source: src) }
        if cmd["nosoftlockup"] != nil || cmd["nowatchdog"] != nil {
            return DoctorCheck("kernel.softlockup", .ok, saw: cmd["nosoftlockup"] != nil ? "nosoftlockup" : "nowatchdog", expected: expected, source: src)
        }
        let soft = host.integer("/proc/sys/kernel/soft_watchdog"), all = host.integer("/proc/sys/kernel/watchdog")
        if case .success(0) = soft { return DoctorCheck("kernel.softlockup", .ok, saw: "soft_watchdog = 0", expected: expected, source: src) }
        if case .success(0) = all { return DoctorCheck("kernel.softlockup", .ok, saw: "watchdog = 0 (both detectors off)", expected: expected, source: src) }
        if case .failure(let p) = soft { return unknown("kernel.softlockup", p.reason, expected: expected, source: src) }
        switch host.cpuList("/proc/sys/kernel/watchdog_cpumask") {
        case .failure(let p): return unknown("kernel.softlockup", p.reason, expected: expected, source: src)
        case .success(let mask):
            let onHot = DoctorCPUs.intersect(hot, mask)
            if onHot.isEmpty {
                return DoctorCheck("kernel.softlockup", .ok, saw: "soft lockup detector on \(DoctorCPUs.format(mask)), not on hot CPUs", expected: expected, source: src)
            }
            return DoctorCheck("kernel.softlockup", .warn, saw: "the soft lockup detector's hrtimer and stopper thread run on hot CPUs \(DoctorCPUs.format(onHot)) every few seconds",
                               expected: expected, source: src, advice: "boot with nosoftlockup (tuned cpu-partitioning adds it), or sysctl -w kernel.soft_watchdog=0")
        }
    }
}
