import CAlphaCoreShims
import Glibc
import Synchronization

/// The interval recorder. Writers on any thread record into the shard of the CPU they run on
/// (read from glibc's rseq area: one load) with one relaxed atomic add; the reporting thread
/// takes the interval by reading each shard's counts and subtracting what it reported last
/// time. Counts only grow, so every value is reported exactly once: a value recorded while a
/// sample runs lands either in that sample or in the next, never in both, never in neither.
/// Writers never lock, wait or retry; the sampler never stops them.
///
/// Layout (one allocation): a 64-byte header, then `shards` histograms (header + counts, each
/// starting on its own cache line), then the sampler's `reported` arrays.
@frozen
public struct Recorder {
    public let base: UnsafeMutableRawPointer
    @inlinable public init(_ base: UnsafeMutableRawPointer) { self.base = base }

    enum Offset {
        static let shardMask = 0       // Int64
        static let shardStride = 8     // Int64, bytes
        static let lastSample = 16     // Int64, ns since the epoch
        static let reportedOffset = 24 // Int64, bytes from base
        static let allocation = 32     // the pointer calloc returned (base is it rounded up to 64)
        static let shards = 64
    }

    /// At most this many shards (more CPUs share shards through the mask).
    public static let maxShards = 64

    public static func create(_ config: Histogram.Config) throws(Errno) -> Recorder {
        let cpus = Swift.max(Int(sysconf(Int32(_SC_NPROCESSORS_CONF))), 1)
        var shards = 1
        while shards < cpus && shards < maxShards { shards <<= 1 }
        let stride = (config.footprint + 63) & ~63
        let countsBytes = Int(config.countsLength) * 8
        let reportedOffset = Offset.shards + shards * stride
        let (size, o) = reportedOffset.addingReportingOverflow(shards * countsBytes)
        guard !o, size < Int.max - 64, let block = calloc(1, size + 64) else {
            throw Errno.fail(ENOMEM, "cannot allocate \(size) bytes for a recorder of \(shards) shards")
        }
        // Cache-line aligned, so that no two shards share a line.
        let raw = UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: block) + 63) & ~63)!
        raw.storeBytes(of: block, toByteOffset: Offset.allocation, as: UnsafeMutableRawPointer.self)
        for s in 0..<shards {
            // Header fields of each shard (counts stay untouched zero pages until used).
            Histogram(header: raw + Offset.shards + s * stride, config)
        }
        let r = Recorder(raw)
        r.base.storeBytes(of: Int64(shards - 1), toByteOffset: Offset.shardMask, as: Int64.self)
        r.base.storeBytes(of: Int64(stride), toByteOffset: Offset.shardStride, as: Int64.self)
        r.base.storeBytes(of: Recorder.realtimeNs(), toByteOffset: Offset.lastSample, as: Int64.self)
        r.base.storeBytes(of: Int64(reportedOffset), toByteOffset: Offset.reportedOffset, as: Int64.self)
        return r
    }

    public func destroy() { free(base.load(fromByteOffset: Offset.allocation, as: UnsafeMutableRawPointer.self)) }

    @inlinable var shardMask: Int { Int(base.load(fromByteOffset: 0, as: Int64.self)) }
    @inlinable var shardStride: Int { Int(base.load(fromByteOffset: 8, as: Int64.self)) }
    public var shardCount: Int { shardMask + 1 }

    @inlinable func shard(_ s: Int) -> Histogram { Histogram(base + 64 + s &* shardStride) }

    /// The shard for the calling thread's current CPU.
    @inlinable @inline(__always)
    func currentShard() -> Histogram {
        var cpu = Int(acshim_current_cpu())
        if cpu < 0 { cpu = 0 }
        return shard(cpu & shardMask)
    }

    /// Wait-free record from any thread. False (nothing changes) when out of range.
    @inlinable @inline(__always)
    public func record(_ value: Int64) -> Bool {
        let h = currentShard()
        if UInt64(bitPattern: value) > UInt64(bitPattern: h.load64(Histogram.Offset.highest)) { return false }
        h.atomicCounts[h.index(of: value)].wrappingAdd(1, ordering: .relaxed)
        return true
    }

    /// All or nothing: returns the position of the first out-of-range value, or nil.
    @inlinable
    public func record(batch values: UnsafePointer<Int64>, count n: Int) -> Int? {
        let h = currentShard()
        let limit = UInt64(bitPattern: h.load64(Histogram.Offset.highest))
        var worst: UInt64 = 0
        for k in 0..<n { worst = Swift.max(worst, UInt64(bitPattern: values[k])) }
        if worst > limit {
            for k in 0..<n where UInt64(bitPattern: values[k]) > limit { return k }
        }
        let c = h.atomicCounts
        for k in 0..<n { c[h.index(of: values[k])].wrappingAdd(1, ordering: .relaxed) }
        return nil
    }

    public var config: Histogram.Config { shard(0).config }

    /// Replaces `into` with everything recorded since the previous sample. One sampler at a time.
    public func sample(into: Histogram) throws(Errno) {
        let template = shard(0)
        guard into.sameLayout(template) else {
            throw Errno.fail(EINVAL, "the target histogram's configuration differs from the recorder's")
        }
        into.reset()
        let n = template.countsLength
        let out = into.counts
        let reported = (base + Int(base.load(fromByteOffset: Offset.reportedOffset, as: Int64.self)))
            .assumingMemoryBound(to: Int64.self)
        for s in 0..<shardCount {
            let live = shard(s).atomicCounts
            let seen = reported + s * n
            for i in 0..<n {
                let now = live[i].load(ordering: .relaxed)
                let d = now &- seen[i]
                if d != 0 {
                    seen[i] = now
                    out[i] &+= d
                }
            }
        }
        into.recomputeSummary()
        let now = Recorder.realtimeNs()
        into.startTime = base.load(fromByteOffset: Offset.lastSample, as: Int64.self)
        into.endTime = now
        base.storeBytes(of: now, toByteOffset: Offset.lastSample, as: Int64.self)
    }

    public static func realtimeNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}
