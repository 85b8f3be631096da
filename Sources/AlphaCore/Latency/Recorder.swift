import CAlphaCoreShims
import Glibc
import Synchronization

/// The interval recorder. Each writer thread gets its own shard (a histogram's counts) the
/// first time it records, and caches it in a thread-local slot; from then on a record is a
/// thread-local load, the bucket arithmetic and a plain increment of a count only that thread
/// writes: no lock, no atomic read-modify-write, no shared cache line. Beyond `maxWriters`
/// threads, writers share one overflow shard with relaxed atomic adds (still correct).
///
/// The reporting thread takes the interval by reading every shard's counts and subtracting what
/// it reported last time (its own `reported` arrays). Counts only grow, so every value is
/// reported exactly once: a value recorded while a sample runs lands in that sample or the
/// next, never both, never neither. Writers are never stopped or made to wait.
///
/// Layout (one allocation, 64-byte aligned): a header, the owner table (thread id per shard),
/// then `maxWriters + 1` histograms (header + counts, each on its own cache lines; the last is
/// the shared overflow shard), then the sampler's `reported` arrays. Untouched shards cost no
/// memory (lazily backed pages).
@frozen
public struct Recorder {
    public let base: UnsafeMutableRawPointer
    @inlinable public init(_ base: UnsafeMutableRawPointer) { self.base = base }

    /// The header (`acshim_recorder_header`, CAlphaCoreShims), by field name.
    @inlinable var hdr: UnsafeMutablePointer<acshim_recorder_header> {
        base.assumingMemoryBound(to: acshim_recorder_header.self)
    }
    /// The first shard's offset: after the header and the owner table, on its own cache line.
    @usableFromInline static var shardsOffset: Int { Int(ACSHIM_RECORDER_OWNERS) + ((maxWriters * 8 + 63) & ~63) }

    /// Threads with a shard of their own; more writers share the overflow shard.
    public static let maxWriters = 64
    static let nextID = Atomic<UInt64>(1)

    public static func create(_ config: Histogram.Config) throws(Errno) -> Recorder {
        let shards = maxWriters + 1
        let stride = (config.footprint + 63) & ~63
        let countsBytes = Int(config.countsLength) * 8
        let reportedOffset = Recorder.shardsOffset + shards * stride
        let (size, o) = reportedOffset.addingReportingOverflow(shards * countsBytes)
        guard !o, size < Int.max - 64, let block = calloc(1, size + 64) else {
            throw Errno.fail(ENOMEM, "cannot allocate a recorder of \(shards) shards")
        }
        guard let raw = UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: block) + 63) & ~63) else {
            free(block)
            throw Errno.fail(ENOMEM, "recorder allocation misaligned")
        }
        let r = raw.assumingMemoryBound(to: acshim_recorder_header.self)
        r.pointee.allocation = block
        for s in 0..<shards { Histogram(header: raw + Recorder.shardsOffset + s * stride, config) }
        r.pointee.id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        r.pointee.shard_stride = Int64(stride)
        r.pointee.last_sample_ns = Recorder.realtimeNs()
        r.pointee.reported_offset = Int64(reportedOffset)
        return Recorder(raw)
    }

    public func destroy() { free(hdr.pointee.allocation) }

    @inlinable var id: UInt64 { hdr.pointee.id }
    @inlinable var shardStride: Int { Int(hdr.pointee.shard_stride) }
    @inlinable func shard(_ s: Int) -> Histogram { Histogram(base + Recorder.shardsOffset + s &* shardStride) }
    var overflowShard: Histogram { shard(Recorder.maxWriters) }
    var owners: UnsafeMutablePointer<Atomic<Int64>> {
        UnsafeMutableRawPointer(acshim_recorder_owners(hdr)).assumingMemoryBound(to: Atomic<Int64>.self)
    }

    /// The calling thread's shard: the cached slot when it is this recorder's, else claimed.
    /// The low bit of the cached address marks the shared overflow shard (atomic adds).
    @inlinable @inline(__always)
    func writerShard() -> UInt64 {
        let slot = acshim_rec_slot()
        if _fastPath(slot.pointee.recorder == id) { return slot.pointee.shard }
        return claim()
    }

    /// Finds the thread's shard (by thread id: a thread that exited leaves its shard to the
    /// next thread with that id) or takes a free one; caches it in the thread-local slot.
    @usableFromInline @inline(never)
    func claim() -> UInt64 {
        let me = Int64(acshim_gettid()) &+ 1
        var chosen = -1
        for s in 0..<Recorder.maxWriters where owners[s].load(ordering: .acquiring) == me { chosen = s; break }
        if chosen < 0 {
            for s in 0..<Recorder.maxWriters {
                if owners[s].load(ordering: .relaxed) == 0,
                   owners[s].compareExchange(expected: 0, desired: me, ordering: .acquiringAndReleasing).exchanged {
                    chosen = s
                    break
                }
            }
        }
        let address = chosen >= 0
            ? UInt64(UInt(bitPattern: shard(chosen).base))
            : UInt64(UInt(bitPattern: overflowShard.base)) | 1
        let slot = acshim_rec_slot()
        slot.pointee.recorder = id
        slot.pointee.shard = address
        return address
    }

    /// Wait-free record from any thread. False (nothing changes) when out of range.
    @inlinable @inline(__always)
    public func record(_ value: Int64) -> Bool {
        let address = writerShard()
        guard let p = UnsafeMutableRawPointer(bitPattern: UInt(address & ~1)) else { return false }
        let h = Histogram(p)
        if UInt64(bitPattern: value) > UInt64(bitPattern: h.highest) { return false }
        let c = h.atomicCounts + h.index(of: value)
        if _fastPath(address & 1 == 0) {
            // Only this thread writes this count: a relaxed load and store, no lock.
            c.pointee.store(c.pointee.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        } else {
            c.pointee.wrappingAdd(1, ordering: .relaxed)
        }
        return true
    }

    /// All or nothing: returns the position of the first out-of-range value, or nil.
    @inlinable
    public func record(batch values: UnsafePointer<Int64>, count n: Int) -> Int? {
        let address = writerShard()
        guard let p = UnsafeMutableRawPointer(bitPattern: UInt(address & ~1)) else { return 0 }
        let h = Histogram(p)
        let limit = UInt64(bitPattern: h.highest)
        var worst: UInt64 = 0
        for k in 0..<n { worst = Swift.max(worst, UInt64(bitPattern: values[k])) }
        if worst > limit {
            for k in 0..<n where UInt64(bitPattern: values[k]) > limit { return k }
        }
        let c = h.atomicCounts
        if address & 1 == 0 {
            for k in 0..<n {
                let p = c + h.index(of: values[k])
                p.pointee.store(p.pointee.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            }
        } else {
            for k in 0..<n { c[h.index(of: values[k])].wrappingAdd(1, ordering: .relaxed) }
        }
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
        let reported = (base + Int(hdr.pointee.reported_offset))
            .assumingMemoryBound(to: Int64.self)
        for s in 0...Recorder.maxWriters {
            // A shard never claimed has never been written: skip it (and its untouched pages).
            if s < Recorder.maxWriters && owners[s].load(ordering: .acquiring) == 0 { continue }
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
        into.startTime = hdr.pointee.last_sample_ns
        into.endTime = now
        hdr.pointee.last_sample_ns = now
    }

    public static func realtimeNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}
