import CAlphaCoreShims
import Synchronization

/// Recording. The total-count rule (issue 18, finding 1): the operations that add many counts at
/// once (record(_:count:), record(batch:), recordCorrected, add, decode) refuse to take the total
/// above `maxTotal` (2^62). The single-value records then have 2^62 records of headroom before
/// Int64.max (146 years at one per nanosecond), so they never wrap and need no check. Atomic
/// records do not touch the total (see recordAtomic).
extension Histogram {
    /// The largest total the bulk operations create (the C ABI's ALPHACORE_HIST_MAX_TOTAL).
    public static let maxTotal: Int64 = 1 << 62

    /// Whether `n` more counts keep the total within maxTotal.
    @inlinable public func totalHasRoom(for n: Int64) -> Bool {
        n >= 0 && totalCount <= Histogram.maxTotal &- n
    }

    /// Why a record changed nothing.
    public enum RecordRefusal { case outOfRange, countFull }

    /// Records one value (single writer). Returns false, changing nothing, when the value is
    /// negative or above `highest` (one unsigned compare covers both).
    @inlinable @inline(__always)
    public func record(_ value: Int64) -> Bool {
        let h = hdr
        if _slowPath(UInt64(bitPattern: value) > UInt64(bitPattern: h.pointee.highest)) { return false }
        counts[index(of: value)] &+= 1
        h.pointee.total_count &+= 1      // never wraps: see maxTotal
        updateMinMax(value)
        return true
    }

    /// The reason a record of `value` was refused (cold path): out of range, or (atomic) the
    /// value's count is Int64.max.
    public func refusal(for value: Int64) -> RecordRefusal {
        UInt64(bitPattern: value) > UInt64(bitPattern: highest) ? .outOfRange : .countFull
    }

    /// min ignores 0 (slot 0 answers for it), as HdrHistogram does. Both stores are out of line:
    /// after the first records neither bound moves, so the fast path is two compares. A 0 is
    /// below any min_nonzero (>= 1), so its test is on the cold side only.
    @inlinable @inline(__always)
    func updateMinMax(_ value: Int64) {
        let h = hdr
        if _slowPath(value < h.pointee.min_nonzero) { if value != 0 { h.pointee.min_nonzero = value } }
        if _slowPath(value > h.pointee.max_value) { h.pointee.max_value = value }
    }

    /// Records `count` occurrences of `value` (single writer). `count` must be >= 0 and must
    /// not overflow the total.
    public func record(_ value: Int64, count: Int64) -> Bool {
        if UInt64(bitPattern: value) > UInt64(bitPattern: highest) || count < 0 { return false }
        settleTotal()
        if !totalHasRoom(for: count) { return false }
        if count == 0 { return true }
        counts[index(of: value)] &+= count   // a count is at most the total: no overflow
        hdr.pointee.total_count &+= count
        updateMinMax(value)
        return true
    }

    /// Records one value with atomic read-modify-writes: many writers may share the histogram.
    /// One locked add on the value's count and nothing else shared is written (min and max only
    /// when they move): the total is not kept per record (a second locked add on one line every
    /// writer shares); `total_from_counts` says the counts' sum is the total instead. A count
    /// that would pass Int64.max is taken back and the record refused.
    @inlinable @inline(__always)
    public func recordAtomic(_ value: Int64) -> Bool {
        let h = hdr
        if UInt64(bitPattern: value) > UInt64(bitPattern: h.pointee.highest) { return false }
        let slot = atomicCounts + index(of: value)
        let before = slot.pointee.wrappingAdd(1, ordering: .relaxed).oldValue
        if _slowPath(before &+ 1 <= 0) {
            slot.pointee.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        let flag = atomic(acshim_hist_total_from_counts(h))
        if _slowPath(flag.pointee.load(ordering: .relaxed) == 0) { flag.pointee.store(1, ordering: .relaxed) }
        if value != 0 {
            let minP = atomic(acshim_hist_min_nonzero(h))
            var cur = minP.pointee.load(ordering: .relaxed)
            while value < cur {
                let r = minP.pointee.compareExchange(expected: cur, desired: value, ordering: .relaxed)
                if r.exchanged { break }
                cur = r.original
            }
        }
        let maxP = atomic(acshim_hist_max_value(h))
        var cur = maxP.pointee.load(ordering: .relaxed)
        while value > cur {
            let r = maxP.pointee.compareExchange(expected: cur, desired: value, ordering: .relaxed)
            if r.exchanged { break }
            cur = r.original
        }
        return true
    }

    /// Records a batch (single writer). All or nothing: if any value is out of range, returns
    /// its position and records none. The caller checks totalHasRoom(for: n).
    ///
    /// One validation pass: the OR of all values (a vector OR, no compare or branch per value)
    /// bounds every value from above, so when it is within `highest` all are; only otherwise a
    /// second, exact pass looks for the first bad value. Then one loop with the bucket parameters
    /// in registers (a per-value record must reload them: a store to the counts could alias the
    /// header), min and max in registers, and total, min and max stored once.
    public func record(batch values: UnsafePointer<Int64>, count n: Int) -> Int? {
        let limit = UInt64(bitPattern: highest)
        var any: UInt64 = 0
        var j = 0
        while j < n { any |= UInt64(bitPattern: values[j]); j &+= 1 }
        if any > limit {
            var k = 0
            while k < n { if UInt64(bitPattern: values[k]) > limit { return k }; k &+= 1 }
        }
        if n == 0 { return nil }
        settleTotal()
        let h = hdr.pointee
        // index(of:)'s arithmetic with the header's fields in registers.
        let mask = h.sub_bucket_mask | 1
        let halfMag = UInt32(bitPattern: h.half_count_magnitude), unit = UInt32(bitPattern: h.unit_magnitude)
        let half = UInt32(bitPattern: h.half_count)
        let c = counts
        var lo = UInt64(bitPattern: h.min_nonzero) &- 1
        var hi = h.max_value
        var k = 0
        while k < n {
            let v = values[k]
            let shift = UInt32(truncatingIfNeeded: 63 &- (v | mask).leadingZeroBitCount) &- halfMag
            c[Int((shift &- unit) &* half) &+ Int(truncatingIfNeeded: v &>> Int64(shift))] &+= 1
            let vm1 = UInt64(bitPattern: v) &- 1
            lo = vm1 < lo ? vm1 : lo
            hi = v > hi ? v : hi
            k &+= 1
        }
        hdr.pointee.min_nonzero = Int64(bitPattern: lo &+ 1)
        hdr.pointee.max_value = hi
        hdr.pointee.total_count = h.total_count &+ Int64(n)
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
        if UInt64(bitPattern: value) > UInt64(bitPattern: highest) { return false }
        settleTotal()
        let k = e > 0 && value > e ? value / e &- 1 : 0   // synthetic values
        // The total stays within maxTotal: refuse rather than grow past it.
        if !totalHasRoom(for: k &+ 1) { return false }
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
        hdr.pointee.total_count &+= k
        updateMinMax(lowestTerm)
        return true
    }
}
