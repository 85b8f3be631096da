import Glibc

/// What one exposed series reads at scrape time.
public enum MetricSource {
    /// A histogram the caller records into (values in ns, or raw units).
    case histogram(Histogram)
    /// A recorder: every shard's live counts summed, never touching the recorder's own sampler
    /// (so the caller's interval log and the scrape each see everything, and writers never stop).
    case recorder(Recorder)
    /// A caller-owned counter slot (the registry allocated it; the caller adds to it).
    case counter(UnsafeMutablePointer<UInt64>)
    /// A caller-owned gauge slot.
    case gauge(UnsafeMutablePointer<Int64>)
    /// One of a reader's counters.
    case reader(UnsafeMutablePointer<ReaderCore>, ReaderStat)
    /// A huge-page pool figure, read from sysfs at scrape.
    case hugePages(pageSize: Int, HugePageFigure)
    /// A thread registered after pinning: whether it still runs inside that set, or its CPU.
    case thread(tid: Int32, cpus: CPUSet, ThreadFigure)

    /// The pointer a caller names to unregister everything reading it.
    var handle: UnsafeRawPointer? {
        switch self {
        case .histogram(let h): return UnsafeRawPointer(h.base)
        case .recorder(let r): return UnsafeRawPointer(r.base)
        case .counter(let p): return UnsafeRawPointer(p)
        case .gauge(let p): return UnsafeRawPointer(p)
        case .reader(let c, _): return UnsafeRawPointer(c)
        case .hugePages, .thread: return nil
        }
    }
}

public enum ReaderStat: CaseIterable, Sendable {
    case messages, bytes, polls, syscalls, enobufs, eofs
    var suffix: String {
        switch self {
        case .messages: return "messages"
        case .bytes: return "bytes"
        case .polls: return "polls"
        case .syscalls: return "syscalls"
        case .enobufs: return "enobufs"
        case .eofs: return "end_of_streams"
        }
    }
    var help: String {
        switch self {
        case .messages: return "Messages the reader delivered."
        case .bytes: return "Bytes the reader delivered."
        case .polls: return "Poll calls on the reader."
        case .syscalls: return "System calls made by the reader's polls, releases and batches."
        case .enobufs: return "Reads that found no free buffer (ENOBUFS)."
        case .eofs: return "End-of-stream completions (a peer closed or a file ended)."
        }
    }
}

public enum HugePageFigure: CaseIterable, Sendable { case total, free, reserved, surplus }
public enum ThreadFigure: Sendable { case onCPUs, cpu }

public enum MetricKind: Sendable { case counter, gauge, histogram }

/// Per-histogram exposition options.
public struct HistogramExport: Sendable {
    /// Exposed value = recorded value * scale (1e-9: ns shown in seconds).
    public var scale: Double
    /// Classic bucket upper bounds, in exposed units, strictly increasing (+Inf implied).
    public var bounds: [Double]
    /// The native schema actually used (the requested one capped by the HDR resolution).
    public var schema: Int32
    public init(scale: Double, bounds: [Double], schema: Int32) {
        self.scale = scale; self.bounds = bounds; self.schema = schema
    }

    public static let defaultSchema: Int32 = 3

    /// 1 us .. 10 s, 1-2-5 per decade (22 bounds), in seconds.
    public static let latencyLadder: [Double] = [
        1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3,
        0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10,
    ]
}

/// One series of a family: its constant labels (rendered, escaped) and where its value comes from.
public struct MetricMember {
    public var labels: String
    public var source: MetricSource
    public var histogram: HistogramExport?
    public var created: Double
}

/// A metric family: one name, type, help and unit; one or more series with distinct labels.
public struct MetricFamily {
    public var name: String
    public var kind: MetricKind
    public var help: String
    public var unit: String
    public var members: [MetricMember]
}

/// The registry: families in registration order behind one lock. Only registration, removal
/// and scrapes take the lock; recording threads never touch the registry (they write their
/// histogram, recorder shard or slot), so they never wait for a scrape.
///
/// Lifetime rule: the registry does not own what it reads. Unregister a histogram, recorder or
/// reader (`remove(handle:)`) before destroying it. Counter and gauge slots belong to the
/// registry and stay valid until it is destroyed or they are removed.
public final class MetricsRegistry: @unchecked Sendable {
    let lock = PThreadMutex()
    /// Guarded by `lock`.
    nonisolated(unsafe) var families: [MetricFamily] = []
    /// Slots the registry allocated (freed by remove or deinit); guarded by `lock`.
    nonisolated(unsafe) var slots: [UnsafeMutableRawPointer] = []

    public init() {}

    deinit {
        for s in slots { free(s) }
    }

    /// Runs `body` under the lock, carrying a typed failure out.
    func locked<R>(_ body: () throws(Errno) -> R) throws(Errno) -> R {
        let r: Result<R, Errno> = lock.withLock { () -> Result<R, Errno> in
            do throws(Errno) { return .success(try body()) } catch { return .failure(error) }
        }
        return try r.get()
    }

    public static func realtimeSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Adds a series (the name already carries its unit suffix). EEXIST for the same name and
    /// labels; EINVAL when the name exists with another type, help or unit.
    public func add(name: String, kind: MetricKind, help: String, unit: String, labels: String,
                    source: MetricSource, histogram: HistogramExport? = nil) throws(Errno) {
        let member = MetricMember(labels: labels, source: source, histogram: histogram,
                                  created: MetricsRegistry.realtimeSeconds())
        try locked { () throws(Errno) in
            try MetricsRegistry.insert(&families, name: name, kind: kind, help: help, unit: unit, member: member)
        }
    }

    /// Adds several series at once, all or none (a reader's counters, the host's pools).
    public func addAll(_ items: [(name: String, kind: MetricKind, help: String, unit: String, member: MetricMember)]) throws(Errno) {
        try locked { () throws(Errno) in
            var copy = families
            for it in items {
                try MetricsRegistry.insert(&copy, name: it.name, kind: it.kind, help: it.help, unit: it.unit, member: it.member)
            }
            families = copy
        }
    }

    static func insert(_ families: inout [MetricFamily], name: String, kind: MetricKind, help: String,
                       unit: String, member: MetricMember) throws(Errno) {
        if let i = families.firstIndex(where: { $0.name == name }) {
            let f = families[i]
            if f.kind != kind || f.unit != unit {
                throw Errno.fail(EINVAL, "\(name) is already registered as a \(f.kind) with unit \"\(f.unit)\"")
            }
            if f.help != help { throw Errno.fail(EINVAL, "\(name) is already registered with other help text") }
            if f.members.contains(where: { $0.labels == member.labels }) {
                throw Errno.fail(EEXIST, "\(name){\(member.labels)} is already registered")
            }
            families[i].members.append(member)
        } else {
            if let clash = families.first(where: { collides($0.name, $0.kind, name, kind) }) {
                throw Errno.fail(EEXIST, "\(name) would collide with the series of \(clash.name)")
            }
            families.append(MetricFamily(name: name, kind: kind, help: help, unit: unit, members: [member]))
        }
    }

    /// Whether two families would expose a series of the same name (foo as a histogram makes
    /// foo_count; foo as a counter makes foo_total).
    static func collides(_ a: String, _ ak: MetricKind, _ b: String, _ bk: MetricKind) -> Bool {
        func names(_ n: String, _ k: MetricKind) -> [String] {
            switch k {
            case .counter: return [n + "_total", n + "_created"]
            case .gauge: return [n]
            case .histogram: return [n + "_bucket", n + "_count", n + "_sum", n + "_created", n]
            }
        }
        let x = names(a, ak), y = names(b, bk)
        return x.contains { y.contains($0) }
    }

    /// Allocates a zeroed 64-byte slot (its own cache line) owned by the registry.
    public func allocateSlot() throws(Errno) -> UnsafeMutableRawPointer {
        var p: UnsafeMutableRawPointer? = nil
        if posix_memalign(&p, 64, 64) != 0 || p == nil { throw Errno.fail(ENOMEM, "cannot allocate a metric slot") }
        guard let slot = p else { throw Errno.fail(ENOMEM, "cannot allocate a metric slot") }
        memset(slot, 0, 64)
        lock.withLock { slots.append(slot) }
        return slot
    }

    /// Frees a slot that never got registered (a failed registration).
    public func releaseSlot(_ slot: UnsafeMutableRawPointer) {
        lock.withLock {
            if let i = slots.firstIndex(of: slot) { slots.remove(at: i); free(slot) }
        }
    }

    /// Removes every series reading `handle` (a histogram, recorder, reader or slot). Returns how
    /// many were removed; ENOENT when none. A removed slot is freed.
    @discardableResult
    public func remove(handle: UnsafeRawPointer) throws(Errno) -> Int {
        let n = lock.withLock { () -> Int in
            var removed = 0
            for i in families.indices {
                let before = families[i].members.count
                families[i].members.removeAll { $0.source.handle == handle }
                removed += before - families[i].members.count
            }
            families.removeAll { $0.members.isEmpty }
            if removed > 0, let k = slots.firstIndex(where: { UnsafeRawPointer($0) == handle }) {
                free(slots[k])
                slots.remove(at: k)
            }
            return removed
        }
        if n == 0 { throw Errno.fail(ENOENT, "nothing registered reads that handle") }
        return n
    }

    /// Runs `body` over the families under the lock (a scrape).
    public func withFamilies<R>(_ body: ([MetricFamily]) -> R) -> R {
        lock.withLock { body(families) }
    }

    public var seriesCount: Int { lock.withLock { families.reduce(0) { $0 + $1.members.count } } }
}
