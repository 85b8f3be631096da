import CAlphaCoreShims
import Glibc
import Synchronization

/// A histogram's counts as a scrape sees them: cumulative since creation, read in place
/// (a histogram, or a recorder with one writer) or summed over the recorder's shards into the
/// scrape's scratch buffer. Reads are relaxed loads of counts that only grow; writers never stop.
struct HistogramReading {
    let layout: Histogram
    let counts: UnsafePointer<Int64>
    /// Slots worth reading (beyond it every count is zero).
    let limit: Int

    static func read(_ source: MetricSource, scratch: ScrapeScratch) -> HistogramReading? {
        switch source {
        case .histogram(let h):
            // Beyond the slot of the largest value recorded every count is zero.
            let top = h.checkedIndex(of: h.rawMax) ?? (h.countsLength - 1)
            return HistogramReading(layout: h, counts: UnsafePointer(h.counts), limit: min(top + 1, h.countsLength))
        case .recorder(let r):
            return r.readCumulative(scratch: scratch)
        default:
            return nil
        }
    }

    /// The total count, the sum of values (bucket midpoints, HdrHistogram's mean rule, in
    /// recorded units) and the cumulative counts at `bounds` (exposed units), in one pass.
    /// The slots are cut at block edges (sub_bucket_half_count slots) and at the bounds' slots:
    /// inside a block every slot has width 2^shift and lowest value (i - base) << shift, so a
    /// segment's sum is 2^shift * (sum c*i - base * sum c) + width/2 * sum c: two branch-free
    /// accumulations that vectorise. A slot counts below a bound when its lowest value is at or
    /// below it.
    func summary(bounds: [Double] = [], scale: Double = 1) -> (count: Int64, sum: Double, cumulative: [Int64]) {
        let halfMag = Int(layout.config.halfCountMagnitude)
        let unit = layout.unitMagnitude
        let h = 1 &<< halfMag
        var cumulative = [Int64](repeating: 0, count: bounds.count)
        var next = 0   // the next bound to fill
        var nextEnd = boundEnd(bounds, 0, scale)
        var total: Int64 = 0
        var sum = 0.0
        var start = 0
        while start < limit {
            let block = start &>> halfMag
            let end = Swift.min(Swift.min((block &+ 1) &* h, limit), nextEnd)
            var c: Int64 = 0, ci: Int64 = 0
            var i = start
            while i < end {
                let x = counts[i]
                c &+= x
                ci &+= x &* Int64(i)
                i &+= 1
            }
            if c != 0 {
                // Block 0 is bucket 0's lower half (value i << unit); block t >= 1 is bucket t-1.
                let shift = Swift.max(block &- 1, 0) &+ unit
                let base = Int64(Swift.max(block &- 1, 0) &* h)
                let width = Double(1 &<< shift)
                sum += Double(ci &- base &* c) * width + Double(c) * (shift == 0 ? 0 : width / 2)
                total &+= c
            }
            start = end
            while next < bounds.count && nextEnd <= start {
                cumulative[next] = total
                next &+= 1
                nextEnd = boundEnd(bounds, next, scale)
            }
        }
        while next < bounds.count { cumulative[next] = total; next &+= 1 }
        return (total, sum, cumulative)
    }

    /// One past the last slot counted below bound k (Int.max when there is none).
    func boundEnd(_ bounds: [Double], _ k: Int, _ scale: Double) -> Int {
        guard k < bounds.count else { return Int.max }
        let v = HistogramReading.recordedBound(bounds[k], scale: scale)
        return v < 0 ? 0 : (layout.checkedIndex(of: v) ?? (layout.countsLength - 1)) &+ 1
    }

    func totals() -> (count: Int64, sum: Double) {
        let s = summary()
        return (s.count, s.sum)
    }

    /// The largest recorded value <= bound (in exposed units): floor(bound / scale), with a bound
    /// that is an integer in recorded units up to rounding (1e-6 / 1e-9) taken as that integer.
    static func recordedBound(_ bound: Double, scale: Double) -> Int64 {
        let x = bound / scale
        if x >= 9.2e18 { return Int64.max }
        if x < 0 { return -1 }
        let r = x.rounded()
        return Int64(abs(x - r) <= 1e-9 * max(1, r) ? r : x.rounded(.down))
    }

    /// Cumulative counts at each bound (exposed units).
    func cumulative(bounds: [Double], scale: Double) -> [Int64] {
        summary(bounds: bounds, scale: scale).cumulative
    }
}

extension Recorder {
    /// Sums every claimed shard's live counts (never the sampler's `reported` arrays, so the
    /// caller's own interval sampling is undisturbed).
    func readCumulative(scratch: ScrapeScratch) -> HistogramReading {
        let template = shard(0)
        let n = template.countsLength
        let out = scratch.counts(n)
        for i in 0..<n { out[i] = 0 }
        for s in 0...Recorder.maxWriters {
            if s < Recorder.maxWriters && owners[s].load(ordering: .acquiring) == 0 { continue }
            let live = shard(s).atomicCounts
            for i in 0..<n { out[i] &+= live[i].load(ordering: .relaxed) }
        }
        var top = n - 1
        while top >= 0 && out[top] == 0 { top -= 1 }
        return HistogramReading(layout: template, counts: UnsafePointer(out), limit: top + 1)
    }
}

/// A scrape's reusable buffer for summed recorder counts (grows to the largest layout).
final class ScrapeScratch {
    private var buffer: UnsafeMutablePointer<Int64>?
    private var capacity = 0
    init() {}
    deinit { buffer?.deallocate() }
    func counts(_ n: Int) -> UnsafeMutablePointer<Int64> {
        if let b = buffer, capacity >= n { return b }
        buffer?.deallocate()
        let b = UnsafeMutablePointer<Int64>.allocate(capacity: max(n, 1))
        buffer = b
        capacity = max(n, 1)
        return b
    }
}

/// Scalar values read at scrape.
enum ScalarReading {
    static func value(_ source: MetricSource) -> Double? {
        switch source {
        case .counter(let p):
            return Double(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .relaxed))
        case .gauge(let p):
            return Double(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<Int64>.self).pointee.load(ordering: .relaxed))
        case .reader(let core, let stat):
            return Double(readerStat(core, stat))
        case .hugePages(let size, let fig):
            guard let pool = try? HugePages.pool(pageSize: size) else { return nil }
            switch fig {
            case .total: return Double(pool.total)
            case .free: return Double(pool.free)
            case .reserved: return Double(pool.reserved)
            case .surplus: return Double(pool.surplus)
            }
        case .thread(let tid, let cpus, let fig):
            let last = lastCPU(tid)
            if fig == .cpu { return Double(last) }
            return last >= 0 && cpus.contains(Int(last)) && stillConfined(tid, cpus) ? 1 : 0
        case .histogram, .recorder:
            return nil
        }
    }

    static func readerStat(_ core: UnsafeMutablePointer<ReaderCore>, _ stat: ReaderStat) -> UInt64 {
        switch stat {
        case .messages: return core.pointee.counters.messages
        case .bytes: return core.pointee.counters.bytes
        case .polls: return core.pointee.counters.polls
        case .syscalls: return core.pointee.counters.syscalls
        case .enobufs: return core.pointee.counters.enobufs
        case .eofs: return core.pointee.counters.eofs
        }
    }

    /// Whether the thread's mask is still within the set it had when registered.
    static func stillConfined(_ tid: Int32, _ cpus: CPUSet) -> Bool {
        var words = [UInt64](repeating: 0, count: 16)
        if acshim_sched_getaffinity(tid, 16 * 8, &words) != 0 { return false }
        return CPUSet(words: words).isSubset(of: cpus)
    }

    /// Field 39 of /proc/self/task/TID/stat (the CPU it last ran on); -1 when gone.
    static func lastCPU(_ tid: Int32) -> Int32 {
        let fd = open("/proc/self/task/\(tid)/stat", O_RDONLY | O_CLOEXEC)
        if fd < 0 { return -1 }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1023) }
        if n <= 0 { return -1 }
        // The command name may contain spaces: fields count from after the last ')'.
        guard let close = buf[0..<n].lastIndex(of: 41) else { return -1 }
        var field = 2
        var i = close + 1
        var start = i
        while i < n {
            if buf[i] == 32 {
                if field == 39 { break }
                field += 1
                start = i + 1
            }
            i += 1
        }
        if field != 39 { return -1 }
        return Int32(String(decoding: buf[start..<i], as: UTF8.self)) ?? -1
    }
}
