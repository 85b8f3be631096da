import CAlphaCoreShims
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

    // The header is `acshim_hist_header` (CAlphaCoreShims), the public
    // `alphacore_hist_layout_v1` field for field; the counts follow at byte offset 104.
    public static let headerSize = Int(ACSHIM_HIST_HEADER_SIZE)

    /// The header's fields, by name.
    @inlinable @inline(__always)
    var hdr: UnsafeMutablePointer<acshim_hist_header> { base.assumingMemoryBound(to: acshim_hist_header.self) }

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
        let h = Histogram(raw).hdr
        h.pointee.highest = config.highest
        h.pointee.sub_bucket_mask = (Int64(config.subBucketCount) - 1) << Int64(config.unitMagnitude)
        h.pointee.min_nonzero = Int64.max
        h.pointee.unit_magnitude = config.unitMagnitude
        h.pointee.half_count_magnitude = config.halfCountMagnitude
        h.pointee.half_count = config.subBucketCount / 2
        h.pointee.sub_bucket_count = config.subBucketCount
        h.pointee.bucket_count = config.bucketCount
        h.pointee.counts_len = config.countsLength
        h.pointee.significant_digits = config.digits
        h.pointee.leading_zero_base = 64 - config.unitMagnitude - (config.halfCountMagnitude + 1)
        h.pointee.lowest = config.lowest
        self = Histogram(raw)
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

    // MARK: fields

    @inlinable public var counts: UnsafeMutablePointer<Int64> { acshim_hist_counts(hdr) }
    @inlinable var atomicCounts: UnsafeMutablePointer<Atomic<Int64>> {
        UnsafeMutableRawPointer(acshim_hist_counts(hdr)).assumingMemoryBound(to: Atomic<Int64>.self)
    }
    @inlinable func atomic(_ field: UnsafeMutablePointer<Int64>) -> UnsafeMutablePointer<Atomic<Int64>> {
        UnsafeMutableRawPointer(field).assumingMemoryBound(to: Atomic<Int64>.self)
    }

    public var config: Config {
        // Rebuilt from the stored fields (they were validated at creation or decode).
        let h = hdr.pointee
        return Config(unchecked: h.lowest, highest: h.highest, digits: h.significant_digits,
                      unitMagnitude: h.unit_magnitude, halfCountMagnitude: h.half_count_magnitude,
                      subBucketCount: h.sub_bucket_count, bucketCount: h.bucket_count, countsLength: h.counts_len)
    }
    public var lowest: Int64 { hdr.pointee.lowest }
    @inlinable public var highest: Int64 { hdr.pointee.highest }
    public var digits: Int { Int(hdr.pointee.significant_digits) }
    @inlinable public var countsLength: Int { Int(hdr.pointee.counts_len) }
    public var bucketCount: Int { Int(hdr.pointee.bucket_count) }
    public var subBucketCount: Int { Int(hdr.pointee.sub_bucket_count) }
    public var unitMagnitude: Int { Int(hdr.pointee.unit_magnitude) }
    public var footprint: Int { Histogram.headerSize + countsLength * 8 }
    public var startTime: Int64 { get { hdr.pointee.start_ns } nonmutating set { hdr.pointee.start_ns = newValue } }
    public var endTime: Int64 { get { hdr.pointee.end_ns } nonmutating set { hdr.pointee.end_ns = newValue } }

    /// The total count. Atomic records add to the counts alone (see recordAtomic), so after one
    /// the total is the counts' sum, saturated at Int64.max (O(counts) until the next reset).
    public var totalCount: Int64 {
        if _slowPath(hdr.pointee.total_from_counts != 0) { return summedTotal() }
        return hdr.pointee.total_count
    }

    func summedTotal() -> Int64 {
        let c = counts
        var total: Int64 = 0
        for i in 0..<countsLength {
            let (t, o) = total.addingReportingOverflow(c[i])
            if o { return Int64.max }
            total = t
        }
        return total
    }

    /// Makes total_count exact again after atomic records (single-writer operations call it
    /// first; no atomic writer may run during them).
    func settleTotal() {
        if hdr.pointee.total_from_counts == 0 { return }
        hdr.pointee.total_count = summedTotal()
        hdr.pointee.total_from_counts = 0
    }

    /// Same bucket layout (counts can be added index by index).
    public func sameLayout(_ other: Histogram) -> Bool {
        hdr.pointee.unit_magnitude == other.hdr.pointee.unit_magnitude
            && hdr.pointee.half_count_magnitude == other.hdr.pointee.half_count_magnitude
            && hdr.pointee.counts_len == other.hdr.pointee.counts_len
    }

    // MARK: bucket arithmetic (HdrHistogram's)

    /// counts_array_index for a value in range (0...highest), HdrHistogram's arithmetic in fewer
    /// instructions: with top = bsr(value | sub_bucket_mask), the bucket is
    /// top - half_count_magnitude - unit_magnitude and the sub-bucket value >> (bucket +
    /// unit_magnitude), so the shift is top - half_count_magnitude (straight from bsr, no
    /// leading-zero flip) and bucket << half_count_magnitude is bucket * half_count (a multiply
    /// by a loaded field: no second shift through %cl). 32-bit unsigned steps: every term is
    /// non-negative and below 2^32 for any value >= 0, and zero-extends for free. `| 1` makes
    /// the operand non-zero for the compiler, so it emits a bare bsr.
    @inlinable @inline(__always)
    public func index(of value: Int64) -> Int {
        let h = hdr
        let top = 63 &- (value | h.pointee.sub_bucket_mask | 1).leadingZeroBitCount
        let shift = UInt32(truncatingIfNeeded: top) &- UInt32(bitPattern: h.pointee.half_count_magnitude)
        let bucket = shift &- UInt32(bitPattern: h.pointee.unit_magnitude)
        let bucketStart = bucket &* UInt32(bitPattern: h.pointee.half_count)
        return Int(bucketStart) &+ Int(truncatingIfNeeded: value &>> Int64(shift))
    }

    /// hdr_value_at_index: the lowest value of counts slot `index`.
    @inlinable
    public func value(atIndex index: Int) -> Int64 {
        let halfMag = Int(hdr.pointee.half_count_magnitude)
        let halfCount = Int(hdr.pointee.half_count)
        var bucket = (index &>> halfMag) &- 1
        var sub = (index & (halfCount &- 1)) &+ halfCount
        if bucket < 0 { sub &-= halfCount; bucket = 0 }
        return Int64(sub) &<< Int64(bucket &+ Int(hdr.pointee.unit_magnitude))
    }

    /// size_of_equivalent_value_range for the slot at `index`.
    @inlinable
    public func rangeSize(atIndex index: Int) -> Int64 {
        let halfMag = Int(hdr.pointee.half_count_magnitude)
        let bucket = max((index &>> halfMag) &- 1, 0)
        return Int64(1) &<< Int64(bucket &+ Int(hdr.pointee.unit_magnitude))
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
}

extension Histogram.Config {
    init(unchecked lowest: Int64, highest: Int64, digits: Int32, unitMagnitude: Int32, halfCountMagnitude: Int32,
         subBucketCount: Int32, bucketCount: Int32, countsLength: Int32) {
        self.lowest = lowest; self.highest = highest; self.digits = digits
        self.unitMagnitude = unitMagnitude; self.halfCountMagnitude = halfCountMagnitude
        self.subBucketCount = subBucketCount; self.bucketCount = bucketCount; self.countsLength = countsLength
    }
}
