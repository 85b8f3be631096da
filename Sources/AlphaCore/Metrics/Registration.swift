import CAlphaCoreShims
import Glibc

/// Registration: names checked and normalised, then one `add`. Names follow the Prometheus
/// conventions: a unit becomes the name's suffix (`_seconds`), a counter's `_total` is added on
/// output (a caller may give it or not).
extension MetricsRegistry {
    /// `name` + "_" + unit unless it already ends so; checked.
    static func exposedName(_ name: String, unit: String) throws(Errno) -> String {
        try MetricNames.checkMetricName(name)
        try MetricNames.checkUnit(unit)
        if unit.isEmpty || name.hasSuffix("_" + unit) { return name }
        let full = name + "_" + unit
        try MetricNames.checkMetricName(full)
        return full
    }

    static func checkedLabels(_ labels: String) throws(Errno) -> String {
        MetricNames.render(try MetricNames.parseLabels(labels))
    }

    /// The finest native schema the histogram's buckets support: a native bucket is never
    /// narrower than an HDR slot (relative width 2^(2^-s) - 1 >= 1 / sub_bucket_half_count).
    public static func finestSchema(_ h: Histogram) -> Int32 {
        let half = Double(h.subBucketCount / 2)
        var s: Int32 = 8
        while s > -4 && exp2(exp2(-Double(s))) - 1 < 1 / half { s -= 1 }
        return s
    }

    static func histogramExport(_ layout: Histogram, unit: String, schema: Int32,
                                bounds: [Double]?) throws(Errno) -> HistogramExport {
        guard (-4...8).contains(schema) else {
            throw Errno.fail(EINVAL, "native schema \(schema) is outside -4...8")
        }
        let b = bounds ?? (unit == "seconds" ? HistogramExport.latencyLadder : [])
        if b.count > 1000 { throw Errno.fail(EINVAL, "\(b.count) bucket bounds; the limit is 1000") }
        for (i, v) in b.enumerated() {
            if !v.isFinite { throw Errno.fail(EINVAL, "bucket bound \(i) is not finite (+Inf is implied)") }
            if i > 0 && v <= b[i - 1] { throw Errno.fail(EINVAL, "bucket bound \(i) (\(v)) is not above bound \(i - 1) (\(b[i - 1]))") }
        }
        return HistogramExport(scale: unit == "seconds" ? 1e-9 : 1, bounds: b,
                               schema: min(schema, finestSchema(layout)))
    }

    /// Registers a histogram or a recorder. `unit` "seconds" (the default) means the values are
    /// recorded in ns and shown in seconds; any other unit shows them as recorded.
    public func registerHistogram(name: String, help: String, unit: String = "seconds", labels: String,
                                  source: MetricSource, schema: Int32 = HistogramExport.defaultSchema, bounds: [Double]? = nil) throws(Errno) {
        let layout: Histogram
        switch source {
        case .histogram(let h): layout = h
        case .recorder(let r): layout = r.shard(0)
        default: throw Errno.fail(EINVAL, "the source is not a histogram or a recorder")
        }
        try MetricNames.checkHelp(help)
        let full = try MetricsRegistry.exposedName(name, unit: unit)
        let export = try MetricsRegistry.histogramExport(layout, unit: unit, schema: schema, bounds: bounds)
        try add(name: full, kind: .histogram, help: help, unit: unit, labels: try MetricsRegistry.checkedLabels(labels),
                source: source, histogram: export)
    }

    /// A counter the caller owns: returns its slot (add to it with plain or relaxed-atomic adds).
    public func registerCounter(name: String, help: String, unit: String = "", labels: String) throws(Errno) -> UnsafeMutablePointer<UInt64> {
        let base = name.hasSuffix("_total") ? String(name.utf8.dropLast(6)) ?? name : name
        return try registerSlot(name: base, kind: .counter, help: help, unit: unit, labels: labels).assumingMemoryBound(to: UInt64.self)
    }

    /// A gauge the caller owns (a signed 64-bit slot).
    public func registerGauge(name: String, help: String, unit: String = "", labels: String) throws(Errno) -> UnsafeMutablePointer<Int64> {
        try registerSlot(name: name, kind: .gauge, help: help, unit: unit, labels: labels).assumingMemoryBound(to: Int64.self)
    }

    /// A slot of the registry's, registered as a counter or gauge; freed again if registration fails.
    func registerSlot(name: String, kind: MetricKind, help: String, unit: String, labels: String) throws(Errno) -> UnsafeMutableRawPointer {
        try MetricNames.checkHelp(help)
        let full = try MetricsRegistry.exposedName(name, unit: unit)
        let l = try MetricsRegistry.checkedLabels(labels)
        let slot = try allocateSlot()
        let source: MetricSource = kind == .counter ? .counter(slot.assumingMemoryBound(to: UInt64.self))
                                                    : .gauge(slot.assumingMemoryBound(to: Int64.self))
        do {
            try add(name: full, kind: kind, help: help, unit: unit, labels: l, source: source)
        } catch {
            releaseSlot(slot)
            throw error
        }
        return slot
    }

    /// A reader's counters: alphacore_reader_{messages,bytes,polls,syscalls,enobufs,end_of_streams}_total.
    public func registerReader(_ core: UnsafeMutablePointer<ReaderCore>, labels: String) throws(Errno) {
        let l = try MetricsRegistry.checkedLabels(labels)
        let now = MetricsRegistry.realtimeSeconds()
        try addAll(ReaderStat.allCases.map { stat in
            (name: "alphacore_reader_" + stat.suffix, kind: .counter, help: stat.help, unit: "",
             member: MetricMember(labels: l, source: .reader(core, stat), histogram: nil, created: now))
        })
    }

    /// The host's huge-page pools: alphacore_hugepages_pages{page_size="2097152",state="free"}.
    public func registerHost(labels: String) throws(Errno) {
        let l = try MetricsRegistry.checkedLabels(labels)
        let now = MetricsRegistry.realtimeSeconds()
        var items: [(name: String, kind: MetricKind, help: String, unit: String, member: MetricMember)] = []
        for size in HugePages.sizes() {
            for fig in HugePageFigure.allCases {
                let own = "page_size=\"\(size)\",state=\"\(fig)\""
                items.append((name: "alphacore_hugepages_pages", kind: .gauge,
                              help: "Huge pages in the kernel's pool of this page size (global), by state.", unit: "",
                              member: MetricMember(labels: l.isEmpty ? own : l + "," + own,
                                                   source: .hugePages(pageSize: size, fig), histogram: nil, created: now)))
            }
        }
        if items.isEmpty { throw Errno.fail(ENOENT, "the kernel offers no huge page sizes (/sys/kernel/mm/hugepages)") }
        try addAll(items)
    }

    /// The calling thread, after pinning: alphacore_thread_on_cpus{thread="name"} (1 while it may
    /// run only on the CPUs it had when registered and last ran on one of them) and
    /// alphacore_thread_cpu (the CPU it last ran on; -1 once it has exited).
    public func registerCurrentThread(name: String, labels: String) throws(Errno) {
        let own = try MetricsRegistry.checkedLabels(labels)
        let threadLabel = MetricNames.render([(name: "thread", value: name)])
        if (try MetricNames.parseLabels(own)).contains(where: { $0.name == "thread" }) {
            throw Errno.fail(EINVAL, "label \"thread\" is set from the name argument; do not give it in labels")
        }
        let l = own.isEmpty ? threadLabel : threadLabel + "," + own
        let tid = acshim_gettid()
        let cpus = try Pinning.currentAffinity()
        let now = MetricsRegistry.realtimeSeconds()
        try addAll([
            (name: "alphacore_thread_on_cpus", kind: .gauge,
             help: "1 while a registered thread still runs only on the CPUs it was pinned to, else 0.", unit: "",
             member: MetricMember(labels: l, source: .thread(tid: tid, cpus: cpus, .onCPUs), histogram: nil, created: now)),
            (name: "alphacore_thread_cpu", kind: .gauge,
             help: "The CPU a registered thread last ran on (-1 once it has exited).", unit: "",
             member: MetricMember(labels: l, source: .thread(tid: tid, cpus: cpus, .cpu), histogram: nil, created: now)),
        ])
    }
}
