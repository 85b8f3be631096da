import Glibc
import Synchronization

/// An HDR histogram with HdrHistogram's bucket arithmetic (`sub_bucket_count`, `unit_magnitude`,
/// `counts_array_index`), laid out as one allocation: a 104-byte header followed by
/// `countsLength` Int64 counts. The C handle is the address of the header, so a record is a
/// few loads, a leading-zero count, shifts and an increment, with no ARC and no indirection.
///
/// Footprint = 104 + 8 * countsLength bytes, which equals HdrHistogram_c's
/// `hdr_get_memory_size` for the same configuration (its struct is also 104 bytes).
///
/// `Histogram` is a trivially-copyable view of that pointer; ownership is explicit
/// (`create` / `destroy`), like the C API.
@frozen
public struct Histogram {
    public let base: UnsafeMutableRawPointer

    @inlinable public init(_ base: UnsafeMutableRawPointer) { self.base = base }

    // Header layout (byte offsets). The first two fields are the only ones record() needs
    // besides the shifts, so they share the first cache line with min/max/total.
    public enum Offset {
        public static let highest = 0            // Int64: largest recordable value
        public static let subBucketMask = 8      // Int64
        public static let totalCount = 16        // Int64
        public static let minNonZero = 24        // Int64 (Int64.max when none)
        public static let maxValue = 32          // Int64
        public static let unitMagnitude = 40     // Int32
        public static let halfCountMagnitude = 44 // Int32 (sub_bucket_half_count_magnitude)
        public static let halfCount = 48         // Int32 (sub_bucket_half_count)
        public static let subBucketCount = 52    // Int32
        public static let bucketCount = 56       // Int32
        public static let countsLength = 60      // Int32
        public static let digits = 64            // Int32
        public static let leadingZeroBase = 68   // Int32: 64 - unit_magnitude - (half_count_magnitude + 1)
        public static let lowest = 72            // Int64
        public static let startTime = 80        // Int64: interval start, ns since the epoch (0 = unset)
        public static let endTime = 88          // Int64: interval end, ns since the epoch
        public static let reserved = 96          // Int64
        public static let counts = 104           // Int64[countsLength]
    }
    public static let headerSize = Offset.counts

    // MARK: configuration

    /// The bucket arithmetic of one configuration, computed with HdrHistogram's rules.
    public struct Config: Equatable, Sendable {
        public var lowest: Int64
        public var highest: Int64
        public var digits: Int32
        public var unitMagnitude: Int32
        public var halfCountMagnitude: Int32
        public var subBucketCount: Int32
        public var bucketCount: Int32
        public var countsLength: Int32

        /// HdrHistogram's rules: lowest >= 1, highest >= 2 * lowest, 1...5 digits, and
        /// unit_magnitude + sub_bucket_half_count_magnitude <= 61.
        public init(lowest: Int64, highest: Int64, digits: Int) throws(Errno) {
            guard lowest >= 1 else {
                throw Errno.fail(EINVAL, "lowest discernible value \(lowest) is below 1")
            }
            guard (1...5).contains(digits) else {
                throw Errno.fail(EINVAL, "significant digits \(digits) is outside 1...5")
            }
            guard highest >= 2, lowest <= highest / 2 else {
                throw Errno.fail(EINVAL, "highest trackable value \(highest) is below 2 * lowest (\(lowest))")
            }
            var largestSingleUnit: Int64 = 2
            for _ in 0..<digits { largestSingleUnit *= 10 }
            var subBucketCountMagnitude: Int32 = 0
            while (Int64(1) << subBucketCountMagnitude) < largestSingleUnit { subBucketCountMagnitude += 1 }
            let halfMag = max(subBucketCountMagnitude, 1) - 1
            let unitMag = Int32(63 - lowest.leadingZeroBitCount)
            guard unitMag + halfMag <= 61 else {
                throw Errno.fail(EINVAL, "lowest \(lowest) with \(digits) digits needs more than 62 bits of range")
            }
            let subBucketCount = Int64(1) << (halfMag + 1)
            // buckets_needed_to_cover_value
            var smallestUntrackable = subBucketCount << unitMag
            var buckets: Int32 = 1
            while smallestUntrackable <= highest {
                if smallestUntrackable > Int64.max / 2 { buckets += 1; break }
                smallestUntrackable <<= 1
                buckets += 1
            }
            self.lowest = lowest
            self.highest = highest
            self.digits = Int32(digits)
            self.unitMagnitude = unitMag
            self.halfCountMagnitude = halfMag
            self.subBucketCount = Int32(subBucketCount)
            self.bucketCount = buckets
            self.countsLength = (buckets + 1) * Int32(subBucketCount / 2)
        }

        /// Bytes of one histogram of this configuration (header + counts).
        public var footprint: Int { Histogram.headerSize + Int(countsLength) * 8 }
    }

    // MARK: lifetime

    /// Allocates a zeroed histogram (calloc: large count arrays are lazily backed pages).
    public static func create(_ config: Config) throws(Errno) -> Histogram {
        guard let raw = calloc(1, config.footprint) else {
            throw Errno.fail(ENOMEM, "cannot allocate \(config.footprint) bytes for a histogram")
        }
        return Histogram(header: raw, config)
    }

    /// Writes the header of an empty histogram at `raw` (its counts must already be zero).
    @discardableResult
    public init(header raw: UnsafeMutableRawPointer, _ config: Config) {
        let h = Histogram(raw)
        h.store64(Offset.highest, config.highest)
        h.store64(Offset.subBucketMask, (Int64(config.subBucketCount) - 1) << Int64(config.unitMagnitude))
        h.store64(Offset.minNonZero, Int64.max)
        h.store32(Offset.unitMagnitude, config.unitMagnitude)
        h.store32(Offset.halfCountMagnitude, config.halfCountMagnitude)
        h.store32(Offset.halfCount, config.subBucketCount / 2)
        h.store32(Offset.subBucketCount, config.subBucketCount)
        h.store32(Offset.bucketCount, config.bucketCount)
        h.store32(Offset.countsLength, config.countsLength)
        h.store32(Offset.digits, config.digits)
        h.store32(Offset.leadingZeroBase, 64 - config.unitMagnitude - (config.halfCountMagnitude + 1))
        h.store64(Offset.lowest, config.lowest)
        self = h
    }

    public static func create(lowest: Int64, highest: Int64, digits: Int) throws(Errno) -> Histogram {
        try create(Config(lowest: lowest, highest: highest, digits: digits))
    }

    public func destroy() { free(base) }

    /// A new histogram with the same configuration and contents.
    public func copy() throws(Errno) -> Histogram {
        let n = footprint
        let raw = try allocateBytes(n, for: "a histogram copy")
        raw.copyMemory(from: base, byteCount: n)
        return Histogram(raw)
    }

    // MARK: raw fields

    @inlinable @inline(__always) func load64(_ off: Int) -> Int64 { base.load(fromByteOffset: off, as: Int64.self) }
    @inlinable @inline(__always) func load32(_ off: Int) -> Int32 { base.load(fromByteOffset: off, as: Int32.self) }
    @inlinable @inline(__always) func store64(_ off: Int, _ v: Int64) { base.storeBytes(of: v, toByteOffset: off, as: Int64.self) }
    @inlinable @inline(__always) func store32(_ off: Int, _ v: Int32) { base.storeBytes(of: v, toByteOffset: off, as: Int32.self) }

    @inlinable public var counts: UnsafeMutablePointer<Int64> {
        (base + Offset.counts).assumingMemoryBound(to: Int64.self)
    }
    @inlinable var atomicCounts: UnsafeMutablePointer<Atomic<Int64>> {
        (base + Offset.counts).assumingMemoryBound(to: Atomic<Int64>.self)
    }
    @inlinable func atomicField(_ off: Int) -> UnsafeMutablePointer<Atomic<Int64>> {
        (base + off).assumingMemoryBound(to: Atomic<Int64>.self)
    }

    public var config: Config {
        // Rebuilt from the stored fields (they were validated at creation or decode).
        Config(unchecked: load64(Offset.lowest), highest: load64(Offset.highest), digits: load32(Offset.digits),
               unitMagnitude: load32(Offset.unitMagnitude), halfCountMagnitude: load32(Offset.halfCountMagnitude),
               subBucketCount: load32(Offset.subBucketCount), bucketCount: load32(Offset.bucketCount),
               countsLength: load32(Offset.countsLength))
    }
    public var lowest: Int64 { load64(Offset.lowest) }
    public var highest: Int64 { load64(Offset.highest) }
    public var digits: Int { Int(load32(Offset.digits)) }
    public var countsLength: Int { Int(load32(Offset.countsLength)) }
    public var bucketCount: Int { Int(load32(Offset.bucketCount)) }
    public var subBucketCount: Int { Int(load32(Offset.subBucketCount)) }
    public var unitMagnitude: Int { Int(load32(Offset.unitMagnitude)) }
    public var footprint: Int { Histogram.headerSize + countsLength * 8 }
    public var totalCount: Int64 { load64(Offset.totalCount) }
    public var startTime: Int64 { get { load64(Offset.startTime) } nonmutating set { store64(Offset.startTime, newValue) } }
    public var endTime: Int64 { get { load64(Offset.endTime) } nonmutating set { store64(Offset.endTime, newValue) } }

    /// Same bucket layout (counts can be added index by index).
    public func sameLayout(_ other: Histogram) -> Bool {
        load32(Offset.unitMagnitude) == other.load32(Offset.unitMagnitude)
            && load32(Offset.halfCountMagnitude) == other.load32(Offset.halfCountMagnitude)
            && load32(Offset.countsLength) == other.load32(Offset.countsLength)
    }

    // MARK: bucket arithmetic (HdrHistogram's)

    /// counts_array_index for a value in range (0...highest). `| 1` lets the compiler use
    /// bsr/lzcnt without a zero check (the mask already guarantees a non-zero operand).
    @inlinable @inline(__always)
    public func index(of value: Int64) -> Int {
        let lz = Int32(truncatingIfNeeded: (value | load64(Offset.subBucketMask) | 1).leadingZeroBitCount)
        let bucket = load32(Offset.leadingZeroBase) &- lz
        let sub = value &>> Int64(bucket &+ load32(Offset.unitMagnitude))
        return Int(truncatingIfNeeded: (Int64(bucket) &<< Int64(load32(Offset.halfCountMagnitude))) &+ sub)
    }

    /// hdr_value_at_index: the lowest value of counts slot `index`.
    @inlinable
    public func value(atIndex index: Int) -> Int64 {
        let halfMag = Int(load32(Offset.halfCountMagnitude))
        let halfCount = Int(load32(Offset.halfCount))
        var bucket = (index &>> halfMag) &- 1
        var sub = (index & (halfCount &- 1)) &+ halfCount
        if bucket < 0 { sub &-= halfCount; bucket = 0 }
        return Int64(sub) &<< Int64(bucket &+ Int(load32(Offset.unitMagnitude)))
    }

    /// size_of_equivalent_value_range for the slot at `index`.
    @inlinable
    public func rangeSize(atIndex index: Int) -> Int64 {
        let halfMag = Int(load32(Offset.halfCountMagnitude))
        let bucket = max((index &>> halfMag) &- 1, 0)
        return Int64(1) &<< Int64(bucket &+ Int(load32(Offset.unitMagnitude)))
    }

    @inlinable public func lowestEquivalent(atIndex i: Int) -> Int64 { value(atIndex: i) }
    @inlinable public func highestEquivalent(atIndex i: Int) -> Int64 { value(atIndex: i) &+ (rangeSize(atIndex: i) &- 1) }
    @inlinable public func medianEquivalent(atIndex i: Int) -> Int64 { value(atIndex: i) &+ (rangeSize(atIndex: i) &>> 1) }

    /// Index for any non-negative value, or nil when it lies beyond the counts array.
    public func checkedIndex(of value: Int64) -> Int? {
        guard value >= 0 else { return nil }
        let i = index(of: value)
        return i < countsLength ? i : nil
    }

    public func lowestEquivalent(_ value: Int64) -> Int64 { checkedIndex(of: value).map { lowestEquivalent(atIndex: $0) } ?? value }
    public func highestEquivalent(_ value: Int64) -> Int64 { checkedIndex(of: value).map { highestEquivalent(atIndex: $0) } ?? value }

    // MARK: recording

    /// Records one value (single writer). Returns false, changing nothing, when the value is
    /// negative or above `highest` (one unsigned compare covers both).
    @inlinable @inline(__always)
    public func record(_ value: Int64) -> Bool {
        if UInt64(bitPattern: value) > UInt64(bitPattern: load64(Offset.highest)) { return false }
        let i = index(of: value)
        counts[i] &+= 1
        let total = base.advanced(by: Offset.totalCount).assumingMemoryBound(to: Int64.self)
        total.pointee &+= 1
        updateMinMax(value)
        return true
    }

    @inlinable @inline(__always)
    func updateMinMax(_ value: Int64) {
        // min ignores 0 (slot 0 answers for it), as HdrHistogram does.
        if value != 0 && value < load64(Offset.minNonZero) { store64(Offset.minNonZero, value) }
        if value > load64(Offset.maxValue) { store64(Offset.maxValue, value) }
    }

    /// Records `count` occurrences of `value` (single writer). `count` must be >= 0 and must
    /// not overflow the total.
    @inlinable
    public func record(_ value: Int64, count: Int64) -> Bool {
        if UInt64(bitPattern: value) > UInt64(bitPattern: load64(Offset.highest)) || count < 0 { return false }
        let i = index(of: value)
        let (c, o1) = counts[i].addingReportingOverflow(count)
        let (t, o2) = load64(Offset.totalCount).addingReportingOverflow(count)
        if o1 || o2 { return false }
        if count == 0 { return true }
        counts[i] = c
        store64(Offset.totalCount, t)
        updateMinMax(value)
        return true
    }

    /// Records one value with atomic read-modify-writes: many writers may share the histogram.
    @inlinable
    public func recordAtomic(_ value: Int64) -> Bool {
        if UInt64(bitPattern: value) > UInt64(bitPattern: load64(Offset.highest)) { return false }
        let i = index(of: value)
        atomicCounts[i].wrappingAdd(1, ordering: .relaxed)
        atomicField(Offset.totalCount).pointee.wrappingAdd(1, ordering: .relaxed)
        if value != 0 {
            let minP = atomicField(Offset.minNonZero)
            var cur = minP.pointee.load(ordering: .relaxed)
            while value < cur {
                let r = minP.pointee.compareExchange(expected: cur, desired: value, ordering: .relaxed)
                if r.exchanged { break }
                cur = r.original
            }
        }
        let maxP = atomicField(Offset.maxValue)
        var cur = maxP.pointee.load(ordering: .relaxed)
        while value > cur {
            let r = maxP.pointee.compareExchange(expected: cur, desired: value, ordering: .relaxed)
            if r.exchanged { break }
            cur = r.original
        }
        return true
    }

    /// Records a batch (single writer). All or nothing: if any value is out of range, returns
    /// its position and records none.
    @inlinable
    public func record(batch values: UnsafePointer<Int64>, count n: Int) -> Int? {
        let limit = UInt64(bitPattern: load64(Offset.highest))
        // Pass 1: range check (vectorises); pass 2: record without checks.
        var worst: UInt64 = 0
        var j = 0
        while j < n { worst = max(worst, UInt64(bitPattern: values[j])); j &+= 1 }
        if worst > limit {
            var k = 0
            while k < n { if UInt64(bitPattern: values[k]) > limit { return k }; k &+= 1 }
        }
        if n == 0 { return nil }
        let c = counts
        var lo = UInt64(bitPattern: load64(Offset.minNonZero)) &- 1
        var hi = load64(Offset.maxValue)
        var k = 0
        while k < n {
            let v = values[k]
            c[index(of: v)] &+= 1
            let vm1 = UInt64(bitPattern: v) &- 1
            lo = vm1 < lo ? vm1 : lo
            hi = v > hi ? v : hi
            k &+= 1
        }
        store64(Offset.minNonZero, Int64(bitPattern: lo &+ 1))
        store64(Offset.maxValue, hi)
        store64(Offset.totalCount, load64(Offset.totalCount) &+ Int64(n))
        return nil
    }

    /// Coordinated-omission correction (HdrHistogram's recordValueWithExpectedInterval):
    /// records `value`, then value - expected, value - 2*expected, ... while above `expected`.
    /// All or nothing: `value` must be in range (then every synthetic value is too).
    ///
    /// The K = value / expected - 1 synthetic values form an arithmetic sequence, so they are
    /// counted slot by slot (how many terms fall in each slot's range) when that is cheaper than
    /// one record per term: the cost is min(K, slots spanned), never value / expected (2^40
    /// steps for value 2^40 and an interval of 1, a hang the caller cannot interrupt).
    public func recordCorrected(_ value: Int64, expectedInterval e: Int64) -> Bool {
        if UInt64(bitPattern: value) > UInt64(bitPattern: load64(Offset.highest)) { return false }
        let k = e > 0 && value > e ? value / e &- 1 : 0   // synthetic values
        // Overflow of the total: refuse rather than wrap.
        if load64(Offset.totalCount).addingReportingOverflow(k &+ 1).overflow { return false }
        _ = record(value)
        if k <= 0 { return true }
        let lowestTerm = value &- k &* e     // >= e: the last term the step-by-step loop records
        let first = index(of: lowestTerm), last = index(of: value &- e)
        if k <= Int64(last &- first &+ 1) {
            var missing = value &- e
            while missing >= e {
                _ = record(missing)
                missing &-= e
            }
            return true
        }
        // Term j (1...k) is value - j*e; slot i holds values lo...hi, so it gets the terms with
        // (value - hi) / e <= j <= (value - lo) / e (rounded inwards), clipped to 1...k.
        let c = counts
        var i = first
        while i <= last {
            let lo = lowestEquivalent(atIndex: i), hi = highestEquivalent(atIndex: i)
            let above = value &- hi          // > -2^63: hi <= highest
            let jMin = above <= e ? 1 : (above &- 1) / e &+ 1
            let jMax = Swift.min((value &- lo) / e, k)
            if jMax >= jMin { c[i] &+= jMax &- jMin &+ 1 }
            i &+= 1
        }
        store64(Offset.totalCount, load64(Offset.totalCount) &+ k)
        updateMinMax(lowestTerm)
        return true
    }

    // MARK: whole-histogram operations

    public func reset() {
        memset(base + Offset.counts, 0, countsLength * 8)
        store64(Offset.totalCount, 0)
        store64(Offset.minNonZero, Int64.max)
        store64(Offset.maxValue, 0)
        store64(Offset.startTime, 0)
        store64(Offset.endTime, 0)
    }

    public var maxValue: Int64 {
        let m = load64(Offset.maxValue)
        return m == 0 ? 0 : highestEquivalent(m)
    }

    public var minValue: Int64 {
        if totalCount == 0 || counts[0] > 0 { return 0 }
        let m = load64(Offset.minNonZero)
        return m == Int64.max ? 0 : lowestEquivalent(m)
    }

    /// Raw extremes as recorded (not rounded to the bucket).
    public var rawMax: Int64 { load64(Offset.maxValue) }
    public var rawMinNonZero: Int64 { load64(Offset.minNonZero) }

    public func count(atValue value: Int64) -> Int64? {
        guard let i = checkedIndex(of: value) else { return nil }
        return counts[i]
    }

    /// Rebuilds total, min and max from the counts (after decode or a raw fill).
    public func recomputeSummary() {
        let c = counts
        var total: Int64 = 0
        var first = -1, last = -1
        for i in 0..<countsLength where c[i] != 0 {
            total &+= c[i]
            if first < 0 { first = i }
            last = i
        }
        store64(Offset.totalCount, total)
        if last >= 0 {
            store64(Offset.maxValue, highestEquivalent(atIndex: last))
            // The lowest non-zero value: slot 0 counts zeros, which min ignores.
            var firstNonZero = first
            if first == 0 {
                firstNonZero = -1
                for i in 1..<countsLength where c[i] != 0 { firstNonZero = i; break }
            }
            store64(Offset.minNonZero, firstNonZero < 0 ? Int64.max : lowestEquivalent(atIndex: firstNonZero))
        } else {
            store64(Offset.maxValue, 0)
            store64(Offset.minNonZero, Int64.max)
        }
    }

    /// Adds `src` into self. With the same layout, slot by slot; otherwise each non-zero slot's
    /// value is recorded at its equivalent here. Returns how many counts did not fit (they are
    /// skipped, everything else is added). An addition that would overflow the total is
    /// refused with EOVERFLOW before anything changes.
    public func add(_ src: Histogram) throws(Errno) -> Int64 {
        let sc = src.counts
        let n = src.countsLength
        var srcTotal: Int64 = 0
        for i in 0..<n {
            let (s, o) = srcTotal.addingReportingOverflow(sc[i])
            if o || sc[i] < 0 { throw Errno.fail(EOVERFLOW, "source histogram counts overflow") }
            srcTotal = s
        }
        if totalCount.addingReportingOverflow(srcTotal).overflow {
            throw Errno.fail(EOVERFLOW, "adding \(srcTotal) counts would overflow the destination total")
        }
        let dc = counts
        if sameLayout(src) && src.base != base {
            // A count can overflow only if the total would, which we excluded.
            for i in 0..<n { dc[i] &+= sc[i] }
            store64(Offset.totalCount, totalCount &+ srcTotal)
            let smin = src.load64(Offset.minNonZero), smax = src.load64(Offset.maxValue)
            if smin < load64(Offset.minNonZero) { store64(Offset.minNonZero, smin) }
            if smax > load64(Offset.maxValue) { store64(Offset.maxValue, smax) }
            mergeTimes(src)
            return 0
        }
        if src.base == base {
            for i in 0..<n { dc[i] &+= dc[i] }
            store64(Offset.totalCount, totalCount &+ srcTotal)
            return 0
        }
        var dropped: Int64 = 0
        let limit = highest
        for i in 0..<n where sc[i] != 0 {
            let v = src.value(atIndex: i)
            if v > limit { dropped &+= sc[i]; continue }
            _ = record(v, count: sc[i])
        }
        mergeTimes(src)
        return dropped
    }

    func mergeTimes(_ src: Histogram) {
        let ss = src.startTime, se = src.endTime
        if ss != 0 && (startTime == 0 || ss < startTime) { startTime = ss }
        if se > endTime { endTime = se }
    }
}

extension Histogram.Config {
    init(unchecked lowest: Int64, highest: Int64, digits: Int32, unitMagnitude: Int32, halfCountMagnitude: Int32,
         subBucketCount: Int32, bucketCount: Int32, countsLength: Int32) {
        self.lowest = lowest; self.highest = highest; self.digits = digits
        self.unitMagnitude = unitMagnitude; self.halfCountMagnitude = halfCountMagnitude
        self.subBucketCount = subBucketCount; self.bucketCount = bucketCount; self.countsLength = countsLength
    }
}
