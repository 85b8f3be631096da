// The doctor's data model: a check's verdict, the options, and the report.
import Glibc

/// How a check came out. The order is the order of gravity: `worst` of a report is the maximum,
/// except that `unknown` (the doctor could not tell) ranks between `info` and `warn`.
public enum DoctorSeverity: Int, Sendable, CaseIterable, Comparable {
    case ok = 0
    case info = 1
    case unknown = 2
    case warn = 3
    case fail = 4

    /// The stable name used in JSON and tables.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .info: "info"
        case .unknown: "unknown"
        case .warn: "warn"
        case .fail: "fail"
        }
    }

    public static func < (a: DoctorSeverity, b: DoctorSeverity) -> Bool { a.rawValue < b.rawValue }
}

/// One finding: what was looked at, what it said, what the engine needs, and what to do.
public struct DoctorCheck: Sendable, Equatable {
    /// Stable dotted id ("cpu.isolated", "mem.hugepages.2048kB"); documented in docs/doctor.md.
    public var id: String
    public var severity: DoctorSeverity
    /// What the doctor saw, in words ("isolated: 2-3; hot CPUs: 1-3").
    public var saw: String
    /// What a latency-ready host has.
    public var expected: String
    /// Where it was read (a path, or "probe").
    public var source: String
    /// What to do about it ("" when nothing).
    public var advice: String
    /// Numbers a program may want (probe results): name -> value.
    public var data: [(String, Int64)]

    public init(_ id: String, _ severity: DoctorSeverity, saw: String, expected: String,
                source: String, advice: String = "", data: [(String, Int64)] = []) {
        self.id = id
        self.severity = severity
        self.saw = saw
        self.expected = expected
        self.source = source
        self.advice = advice
        self.data = data
    }

    public static func == (a: DoctorCheck, b: DoctorCheck) -> Bool {
        a.id == b.id && a.severity == b.severity && a.saw == b.saw && a.expected == b.expected
            && a.source == b.source && a.advice == b.advice
            && a.data.map { $0.0 } == b.data.map { $0.0 } && a.data.map { $0.1 } == b.data.map { $0.1 }
    }
}

/// A number of huge pages of one size the engine needs, optionally on one NUMA node.
public struct HugePageNeed: Sendable, Equatable {
    public var pageKiB: Int
    public var count: Int
    public var node: Int?

    public init(pageKiB: Int, count: Int, node: Int? = nil) {
        self.pageKiB = pageKiB
        self.count = count
        self.node = node
    }

    /// Parses "SIZE:COUNT[@NODE]" items separated by commas: "2M:512", "1G:4@0,2M:64@1".
    /// SIZE is a number with K, M or G (binary units); COUNT and NODE are decimal.
    public static func parseList(_ text: String) throws(Errno) -> [HugePageNeed] {
        var needs: [HugePageNeed] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            needs.append(try parse(Substring(SysFile.trim(item))))
        }
        return needs
    }

    static func parse(_ item: Substring) throws(Errno) -> HugePageNeed {
        func bad(_ why: String) -> Errno {
            Errno.fail(EINVAL, "huge-page need '\(item)': \(why) (expected SIZE:COUNT[@NODE], e.g. 2M:512@0)")
        }
        let parts = item.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count != 2 { throw bad("one ':' expected") }
        var sizeText = parts[0]
        var multiplier = 1
        switch sizeText.last {
        case "K", "k": multiplier = 1
        case "M", "m": multiplier = 1024
        case "G", "g": multiplier = 1024 * 1024
        default: throw bad("the size needs a unit K, M or G")
        }
        sizeText.removeLast()
        if sizeText.hasSuffix("i") || sizeText.hasSuffix("B") { throw bad("write the size as 2M or 1G") }
        guard let size = decimal(sizeText), size > 0 else { throw bad("the size is not a positive number") }
        let (kib, overflow) = size.multipliedReportingOverflow(by: multiplier)
        if overflow || kib > 1 << 40 { throw bad("the size is too large") }
        let countAndNode = parts[1].split(separator: "@", omittingEmptySubsequences: false)
        if countAndNode.count > 2 { throw bad("one '@' at most") }
        guard let count = decimal(countAndNode[0]), count > 0 else { throw bad("the count is not a positive number") }
        var node: Int? = nil
        if countAndNode.count == 2 {
            guard let n = decimal(countAndNode[1]), n < 1 << 16 else { throw bad("the node is not a number") }
            node = n
        }
        return HugePageNeed(pageKiB: kib, count: count, node: node)
    }

    /// A non-negative decimal with at most 12 digits, or nil.
    static func decimal(_ s: Substring) -> Int? {
        if s.isEmpty || s.count > 12 { return nil }
        var v = 0
        for c in s.utf8 {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            v = v * 10 + Int(c - 0x30)
        }
        return v
    }

    /// "2M", "1G", "64K".
    public static func sizeName(kib: Int) -> String {
        if kib >= 1 << 20 && kib % (1 << 20) == 0 { return "\(kib >> 20)G" }
        if kib >= 1 << 10 && kib % (1 << 10) == 0 { return "\(kib >> 10)M" }
        return "\(kib)K"
    }

    public var description: String {
        "\(HugePageNeed.sizeName(kib: pageKiB)):\(count)" + (node.map { "@\($0)" } ?? "")
    }
}

/// What the engine will use, and whether to measure.
public struct DoctorOptions: Sendable {
    /// The CPUs the engine's hot threads will run on, as a cpulist ("2-5"); nil: the isolated
    /// CPUs if any, else every CPU the process may use.
    public var cpus: String?
    /// Huge pages the engine needs.
    public var hugepages: [HugePageNeed]
    /// Run the time-boxed measurements (jitter, tick, core-to-core).
    public var probe: Bool
    /// Time box of the jitter probe per hot CPU, in milliseconds (the probes run hot CPUs in
    /// parallel, so the whole probe takes about this plus the core-to-core part).
    public var probeMilliseconds: Int

    /// How the engine's reader waits (judges net.busy_poll, net.coalesce, net.gro).
    public var profile: DoctorReaderProfile
    /// The NICs the feed arrives on; empty: those carrying the default route, plus those the
    /// sockets of `pid` use.
    public var nics: [String]
    /// The engine's process, whose sockets name more NICs (nil: none).
    public var pid: Int32?
    /// The largest burst the engine must absorb in one socket, in bytes (net.rmem; nil: info only).
    public var burstBytes: Int64?
    /// The CPUs the engine chose for the NICs' interrupts, as a cpulist (nil: off the hot CPUs).
    public var nicCPUs: String?

    public init(cpus: String? = nil, hugepages: [HugePageNeed] = [], probe: Bool = false,
                probeMilliseconds: Int = 250, profile: DoctorReaderProfile = .latency, nics: [String] = [],
                pid: Int32? = nil, burstBytes: Int64? = nil, nicCPUs: String? = nil) {
        self.cpus = cpus
        self.hugepages = hugepages
        self.probe = probe
        self.probeMilliseconds = probeMilliseconds
        self.profile = profile
        self.nics = nics
        self.pid = pid
        self.burstBytes = burstBytes
        self.nicCPUs = nicCPUs
    }
}

/// The reader profiles (how the engine waits for data), as far as the doctor judges them.
public enum DoctorReaderProfile: String, Sendable, CaseIterable {
    /// Sleeps in the kernel until data comes; spends no CPU waiting ("blocking" is the same).
    case throughput
    /// Waits in epoll or io_uring with short timeouts: kernel busy polling shortens the wake-up.
    case latency
    /// Polls with a zero timeout from a dedicated CPU: never sleeps.
    case spin

    /// "throughput", "blocking", "latency", "spin"; nil for anything else.
    public static func named(_ s: String) -> DoctorReaderProfile? {
        s == "blocking" ? .throughput : DoctorReaderProfile(rawValue: s)
    }
}

/// The outcome of one run.
public struct DoctorReport: Sendable {
    public var checks: [DoctorCheck]
    /// The root prefix the files were read under ("" for the live system).
    public var root: String
    /// The hot CPUs checked against, as a cpulist, and how they were chosen.
    public var hotCPUs: String
    public var hotCPUsFrom: String
    public var probed: Bool
    /// How long the run took.
    public var elapsedMicroseconds: Int64
    /// The CPU time the run's thread used (user + system): the run's length unpreempted.
    public var cpuMicroseconds: Int64

    public init(checks: [DoctorCheck], root: String, hotCPUs: String, hotCPUsFrom: String,
                probed: Bool, elapsedMicroseconds: Int64, cpuMicroseconds: Int64 = 0) {
        self.checks = checks
        self.root = root
        self.hotCPUs = hotCPUs
        self.hotCPUsFrom = hotCPUsFrom
        self.probed = probed
        self.elapsedMicroseconds = elapsedMicroseconds
        self.cpuMicroseconds = cpuMicroseconds
    }

    /// How many checks came out with each severity.
    public func count(_ s: DoctorSeverity) -> Int { checks.reduce(0) { $0 + ($1.severity == s ? 1 : 0) } }

    /// The gravest severity (ok for an empty report).
    public var worst: DoctorSeverity { checks.map(\.severity).max() ?? .ok }

    /// The first check with this id.
    public func check(_ id: String) -> DoctorCheck? { checks.first { $0.id == id } }
}
