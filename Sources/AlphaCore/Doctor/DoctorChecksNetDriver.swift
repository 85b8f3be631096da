// What the driver does to a packet before the engine sees it (through the one ethtool provider),
// and the host-wide socket buffer limits and softirq budget.
extension DoctorContext {
    /// A driver answer that is "not supported" is information, not a failure to tell.
    private func driverProblem(_ id: String, _ p: DoctorProblem, expected: String, source: String) -> DoctorCheck {
        p.reason.containsText("EOPNOTSUPP")
            ? DoctorCheck(id, .info, saw: p.reason, expected: expected, source: source)
            : unknown(id, p.reason, expected: expected, source: source)
    }

    private var ethtoolSource: String { host.live ? "SIOCETHTOOL" : "/ethtool" }

    func coalesceCheck(_ nic: String) -> DoctorCheck {
        let id = "net.coalesce.\(nic)"
        let src = "\(ethtoolSource) ETHTOOL_GCOALESCE (ethtool -c \(nic))"
        let latency = options.profile != .throughput
        let expected = latency ? "adaptive-rx off and rx-usecs 10 or less (each microsecond of coalescing delays a burst's first packet)"
                               : "any (the throughput profile trades latency for fewer interrupts)"
        switch ethtool.coalesce(nic) {
        case .failure(let p): return driverProblem(id, p, expected: expected, source: src)
        case .success(let c):
            let saw = "rx-usecs \(c.rxUsecs), adaptive-rx \(c.adaptiveRx ? "on" : "off")"
            if !latency { return DoctorCheck(id, .info, saw: saw, expected: expected, source: src) }
            if !c.adaptiveRx && c.rxUsecs <= 10 { return DoctorCheck(id, .ok, saw: saw, expected: expected, source: src) }
            return DoctorCheck(id, .warn, saw: saw + (c.adaptiveRx ? ": the driver raises the delay under load, when it hurts most" : ": the NIC holds packets up to \(c.rxUsecs) us before interrupting"),
                               expected: expected, source: src, advice: "ethtool -C \(nic) adaptive-rx off rx-usecs 0")
        }
    }

    func ringCheck(_ nic: String) -> DoctorCheck {
        let id = "net.ring.\(nic)"
        let src = "\(ethtoolSource) ETHTOOL_GRINGPARAM (ethtool -g \(nic))"
        let expected = "the rx ring at its maximum (a burst between two softirq runs fits)"
        switch ethtool.ring(nic) {
        case .failure(let p): return driverProblem(id, p, expected: expected, source: src)
        case .success(let r):
            if r.rxMax <= 0 { return DoctorCheck(id, .info, saw: "the driver reports no rx ring maximum (rx \(r.rx))", expected: expected, source: src) }
            return r.rx >= r.rxMax
                ? DoctorCheck(id, .ok, saw: "rx ring \(r.rx) of \(r.rxMax)", expected: expected, source: src)
                : DoctorCheck(id, .warn, saw: "rx ring \(r.rx) of \(r.rxMax): a burst of more than \(r.rx) packets between two softirq runs is dropped",
                              expected: expected, source: src, advice: "ethtool -G \(nic) rx \(r.rxMax)")
        }
    }

    func offloadCheck(_ nic: String, _ which: String) -> DoctorCheck {
        let id = "net.\(which).\(nic)"
        let src = "\(ethtoolSource) \(which == "gro" ? "ETHTOOL_GGRO" : "ETHTOOL_GFLAGS") (ethtool -k \(nic))"
        let lro = which == "lro"
        let strict = lro || options.profile != .throughput
        let expected = lro ? "LRO off (the NIC merges segments and holds them)"
                           : strict ? "GRO off for the latency and spin profiles (merging TCP segments holds packets until the end of the NAPI poll)"
                                    : "any (GRO saves CPU for the throughput profile)"
        switch ethtool.offload(nic, which) {
        case .failure(let p): return driverProblem(id, p, expected: expected, source: src)
        case .success(let on):
            if !on { return DoctorCheck(id, .ok, saw: "\(which.uppercased()) off", expected: expected, source: src) }
            return DoctorCheck(id, strict ? .warn : .info, saw: "\(which.uppercased()) on", expected: expected, source: src,
                               advice: "ethtool -K \(nic) \(which) off")
        }
    }

    func rmemCheck() -> DoctorCheck {
        let id = "net.rmem"
        let src = "/proc/sys/net/core/rmem_max, /proc/sys/net/core/rmem_default"
        let burst = options.burstBytes
        let expected = burst.map { "rmem_max and rmem_default at least the burst, \(DoctorFormat.bytes($0)) (--burst-bytes)" }
            ?? "socket buffers that hold the engine's largest burst (pass --burst-bytes to check)"
        let (mx, df): (Int64, Int64)
        switch host.integers("/proc/sys/net/core/rmem_max", "/proc/sys/net/core/rmem_default") {
        case .success(let v): (mx, df) = v
        case .failure(let p): return unknown(id, p.reason, expected: expected, source: src)
        }
        let saw = "rmem_max \(DoctorFormat.bytes(mx)), rmem_default \(DoctorFormat.bytes(df))"
        guard let burst else { return DoctorCheck(id, .info, saw: saw, expected: expected, source: src) }
        var short: [String] = []
        if mx < burst { short.append("no socket may ask for more than rmem_max with SO_RCVBUF") }
        if df < burst { short.append("a socket that does not set SO_RCVBUF gets rmem_default") }
        if short.isEmpty { return DoctorCheck(id, .ok, saw: saw, expected: expected, source: src, data: [("rmem_max", mx), ("rmem_default", df)]) }
        return DoctorCheck(id, .warn, saw: saw + ": a burst of \(DoctorFormat.bytes(burst)) overflows (" + short.joined(separator: "; ") + ")",
                           expected: expected, source: src, advice: "sysctl -w net.core.rmem_max=\(max(mx, burst)) net.core.rmem_default=\(max(df, burst))",
                           data: [("rmem_max", mx), ("rmem_default", df)])
    }

    func budgetCheck() -> DoctorCheck {
        let id = "net.budget"
        let src = "/proc/sys/net/core/netdev_budget, /proc/sys/net/core/netdev_budget_usecs, /proc/net/softnet_stat"
        let expected = "netdev_budget 300 or more and netdev_budget_usecs 2000 or more, and no softirq round cut short (softnet_stat time_squeeze 0)"
        let (budget, usecs): (Int64, Int64)
        switch host.integers("/proc/sys/net/core/netdev_budget", "/proc/sys/net/core/netdev_budget_usecs") {
        case .success(let v): (budget, usecs) = v
        case .failure(let p): return unknown(id, p.reason, expected: expected, source: src)
        }
        var squeezed: Int64 = 0
        guard let stat = host.read("/proc/net/softnet_stat").text else {
            return unknown(id, host.read("/proc/net/softnet_stat").reason, expected: expected, source: src)
        }
        for line in stat.split(separator: "\n") {
            let f = line.split(whereSeparator: DoctorHost.isBlank)
            guard f.count >= 3, let v = Int64(f[2], radix: 16) else {
                return unknown(id, "/proc/net/softnet_stat holds '\(DoctorHost.excerpt(String(line)))'", expected: expected, source: src)
            }
            squeezed += v
        }
        let saw = "netdev_budget \(budget) packets, netdev_budget_usecs \(usecs) us; \(squeezed) rounds cut short since boot"
        let ok = budget >= 300 && usecs >= 2000 && squeezed == 0
        return DoctorCheck(id, ok ? .ok : .warn, saw: saw, expected: expected, source: src,
                           advice: ok ? "" : "sysctl -w net.core.netdev_budget=600 net.core.netdev_budget_usecs=4000 (packets left over wait for the next round or ksoftirqd)",
                           data: [("time_squeeze", squeezed)])
    }
}
