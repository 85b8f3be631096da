// The host readiness doctor: a read-only audit of what a latency-critical engine needs from the
// kernel and the process's environment, through the same root prefix as the topology (so tests
// run it over fixture trees). Every check reports what it saw, what it expects, where it read it
// and what to do; a file that is missing, unreadable or garbage gives `unknown` with the reason.
import Glibc

public enum Doctor {
    /// The largest CPU id a hot-CPU list may name (Linux's NR_CPUS is at most 8192).
    public static let maxCPUID = 8191

    /// Runs every check (and the probes when asked) over the files below `root` (nil: the
    /// process's SystemRoot prefix). Throws only for bad options (EINVAL): a CPU list that does
    /// not parse. Leaves the caller's last-failure detail as it was.
    public static func run(_ options: DoctorOptions, root: String? = nil) throws(Errno) -> DoctorReport {
        try run(options, root: root, ethtool: nil)
    }

    /// `ethtool`: the driver answers (nil: ioctls on the live system, files under a fixture root).
    static func run(_ options: DoctorOptions, root: String?, ethtool: DoctorEthtool?) throws(Errno) -> DoctorReport {
        let savedDetail = Detail.current
        let t0 = Clock.nowNanoseconds()
        let cpu0 = threadCPUNanoseconds()
        let ctx = try context(options, root: root, ethtool: ethtool)
        let checks = ctx.allChecks(probe: options.probe)
        let elapsed = Int64(bitPattern: (Clock.nowNanoseconds() &- t0) / 1000)
        let cpu = (threadCPUNanoseconds() - cpu0) / 1000
        Detail.set(savedDetail)  // the files that failed to open are in the report, not the detail
        return DoctorReport(checks: checks, root: ctx.host.root, hotCPUs: DoctorCPUs.format(ctx.hot),
                            hotCPUsFrom: ctx.hotFrom, probed: options.probe, elapsedMicroseconds: elapsed,
                            cpuMicroseconds: cpu)
    }

    /// Validates the options (EINVAL with a detail) and sets up one run's facts.
    static func context(_ options: DoctorOptions, root: String?, ethtool: DoctorEthtool?) throws(Errno) -> DoctorContext {
        let host = DoctorHost(root: root ?? SystemRoot.prefix)
        let requested = try cpuOption(options.cpus, what: "CPU list")
        let nicCPUs = try cpuOption(options.nicCPUs, what: "NIC CPU list")
        for nic in options.nics where nic.isEmpty || nic.utf8.count > 15 || nic.contains("/") || nic.contains("\0") {
            throw Errno.fail(EINVAL, "'\(DoctorHost.excerpt(nic))' is not an interface name (1-15 characters, no '/')")
        }
        if let b = options.burstBytes, b <= 0 || b > 1 << 40 { throw Errno.fail(EINVAL, "burst bytes \(b) is not in 1...2^40") }
        if let p = options.pid, p <= 0 { throw Errno.fail(EINVAL, "pid \(p) is not a process id") }
        let ctx = DoctorContext(host: host, requested: requested, options: options, nicCPUs: nicCPUs)
        if let ethtool { ctx.ethtool = ethtool }
        return ctx
    }

    /// The calling thread's CPU time (0 if the clock is unavailable).
    static func threadCPUNanoseconds() -> Int64 {
        var ts = timespec()
        if clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0 { return 0 }
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// A CPU list option, parsed and bounded (nil stays nil).
    static func cpuOption(_ text: String?, what: String) throws(Errno) -> [Int]? {
        guard let text else { return nil }
        let t = SysFile.trim(text)
        if t.isEmpty { throw Errno.fail(EINVAL, "the \(what) is empty") }
        let cpus: [Int]
        do throws(Errno) { cpus = try DoctorCPUs.parse(t) } catch {
            throw Errno.fail(EINVAL, "'\(t)' is not a CPU list (expected e.g. 2-5,8)")
        }
        // Each hot CPU costs sysfs reads in several checks: a list up to the parser's limit
        // (0-1048575) kept the caller waiting 15 s. Linux has at most 8192 CPUs (NR_CPUS).
        if let top = cpus.last, top > maxCPUID {
            throw Errno.fail(EINVAL, "CPU \(top) in '\(CPUSet.quoted(t))' is above \(maxCPUID), the largest CPU id Linux supports")
        }
        return cpus
    }
}

/// The facts of one run and the check functions over them (one file per area extends it).
final class DoctorContext {
    let host: DoctorHost
    let options: DoctorOptions
    /// The hot CPUs and where they came from.
    private(set) var hot: [Int] = []
    private(set) var hotFrom = ""
    /// Problems with the requested hot CPUs (offline, not allowed), for cpu.hot.
    private(set) var hotProblems: [String] = []

    /// The CPUs the engine chose for the NICs' interrupts (--nic-cpus), if any.
    let nicCPUs: [Int]?

    init(host: DoctorHost, requested: [Int]?, options: DoctorOptions, nicCPUs: [Int]? = nil) {
        self.host = host
        self.options = options
        self.nicCPUs = nicCPUs
        chooseHot(requested)
    }

    /// The driver answers for the NIC checks.
    lazy var ethtool: DoctorEthtool = host.live ? EthtoolIoctl() : EthtoolFiles(host: host)

    /// Interrupt names from /proc/interrupts (last column) by number.
    lazy var irqNames: [String: String] = {
        var names: [String: String] = [:]
        guard let t = host.read("/proc/interrupts").text else { return names }
        for line in t.split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: DoctorHost.isBlank)
            guard let first = f.first, first.hasSuffix(":"), Int(first.dropLast()) != nil else { continue }
            names[String(first.dropLast())] = f.last.map(String.init) ?? ""
        }
        return names
    }()

    /// Every check, in the report's order.
    func allChecks(probe: Bool) -> [DoctorCheck] {
        var checks = cpuChecks() + irqChecks() + powerChecks() + clockChecks() + schedulerChecks()
        checks += tuningChecks() + cgroupChecks() + processChecks() + memoryChecks() + numaChecks()
        checks += virtChecks() + netChecks()
        if probe { checks += probeChecks() }
        return checks
    }

    var hotText: String { hot.isEmpty ? "<hot CPUs>" : DoctorCPUs.format(hot) }

    /// The CPU capability's topology of the tree below the root (not the process-wide cache).
    lazy var topology: Result<Topology, DoctorProblem> = {
        do throws(Errno) { return .success(try Topology.load(prefix: host.root)) } catch {
            return .failure(DoctorProblem(DoctorHost.stripRoot(Detail.current, root: host.root)))
        }
    }()

    /// The CPUs this process may run on: online, within its affinity and the cgroup cpuset.
    lazy var allowed: Result<[Int], DoctorProblem> = topology.map { $0.allowed.ids }

    /// Where the allowed set came from, in words.
    var allowedSource: String {
        switch topology {
        case .success(let t): return DoctorHost.stripRoot(t.allowedSource, root: host.root)
        case .failure(let p): return "unknown (\(p.reason))"
        }
    }

    lazy var cgroup = DoctorCgroup(host: host)

    private func chooseHot(_ requested: [Int]?) {
        if let requested {
            hot = requested
            hotFrom = "--cpus"
            if case .success(let on) = host.online {
                let off = DoctorCPUs.minus(requested, on)
                if !off.isEmpty { hotProblems.append("\(DoctorCPUs.format(off)) not online (online: \(DoctorCPUs.format(on)))") }
            }
            if case .success(let al) = allowed {
                let out = DoctorCPUs.minus(requested, al)
                if !out.isEmpty {
                    hotProblems.append("\(DoctorCPUs.format(out)) outside the CPUs this process may use (\(DoctorCPUs.format(al)): \(allowedSource))")
                }
            }
            return
        }
        let allowedSet = (try? allowed.get()) ?? ((try? host.online.get()) ?? [])
        if case .success(let iso) = host.isolated, !iso.isEmpty {
            let usable = DoctorCPUs.intersect(iso, allowedSet)
            if !usable.isEmpty {
                hot = usable
                hotFrom = "isolated CPUs (no --cpus given)"
                return
            }
        }
        hot = allowedSet
        hotFrom = "all allowed CPUs (no --cpus given, none isolated)"
    }

    // MARK: helpers for checks

    func unknown(_ id: String, _ why: String, expected: String, source: String, advice: String = "") -> DoctorCheck {
        DoctorCheck(id, .unknown, saw: "cannot tell: \(why)", expected: expected, source: source, advice: advice)
    }

    /// Path of a per-CPU sysfs file.
    static func cpuPath(_ cpu: Int, _ rest: String) -> String { "/sys/devices/system/cpu/cpu\(cpu)/\(rest)" }

    /// Groups CPUs by a per-CPU value: "performance on 2-3; powersave on 4".
    static func grouped(_ pairs: [(Int, String)]) -> String {
        var order: [String] = []
        var by: [String: [Int]] = [:]
        for (cpu, v) in pairs {
            if by[v] == nil { order.append(v) }
            by[v, default: []].append(cpu)
        }
        return order.map { "\($0) on \(DoctorCPUs.format(by[$0] ?? []))" }.joined(separator: "; ")
    }

    /// The capability bits of CapEff.
    lazy var capabilities: UInt64? = {
        guard let s = host.status?["CapEff"] else { return nil }
        return UInt64(s, radix: 16)
    }()

    func hasCapability(_ bit: Int) -> Bool? { capabilities.map { $0 & (1 << UInt64(bit)) != 0 } }
}

/// Number formatting for reports.
public enum DoctorFormat {
    /// 1536 KiB -> "1.5 MiB".
    public static func bytes(_ v: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var x = Double(v)
        var u = 0
        while x >= 1024 && u < units.count - 1 { x /= 1024; u += 1 }
        if u == 0 || x >= 100 || x == x.rounded() { return "\(Int64(x.rounded())) \(units[u])" }
        return "\(Double(Int64(x * 10)) / 10) \(units[u])"
    }

    /// 1234 -> "1.2 us", 1_500_000 -> "1.5 ms".
    public static func nanos(_ v: Int64) -> String {
        if v < 1000 { return "\(v) ns" }
        if v < 1_000_000 { return "\(Double(v / 100) / 10) us" }
        if v < 1_000_000_000 { return "\(Double(v / 100_000) / 10) ms" }
        return "\(Double(v / 100_000_000) / 10) s"
    }
}
