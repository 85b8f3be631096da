import Glibc

// Queries: percentiles, mean and standard deviation, the percentile distribution text.
// Semantics are HdrHistogram's (Java and C): the value at a percentile is the highest
// equivalent value of the first slot whose cumulative count reaches
// max(1, round(percentile / 100 * total)); percentile 0 gives the lowest equivalent value.
// Mean and standard deviation use each slot's median equivalent value.
extension Histogram {
    /// Index of the lowest and highest non-empty slot, from the tracked min and max.
    @inline(__always)
    var occupiedRange: (first: Int, last: Int)? {
        if totalCount <= 0 { return nil }
        let last = Swift.min(checkedIndex(of: rawMax) ?? (countsLength - 1), countsLength - 1)
        var first = 0
        if counts[0] == 0 {
            let m = rawMinNonZero
            first = m == Int64.max ? 0 : Swift.min(checkedIndex(of: m) ?? 0, last)
        }
        return (first, last)
    }

    /// Count at or below which the percentile falls (Java's rounding), clamped to 1...total.
    @inline(__always)
    func targetCount(_ percentile: Double, total: Int64) -> Int64 {
        // 100 means the whole count even where Double(total) rounds (totals above 2^53).
        if percentile >= 100.0 { return total }
        let t = (percentile / 100.0) * Double(total) + 0.5
        if !(t < 9.2e18) { return total }
        return Swift.min(Swift.max(Int64(t), 1), total)
    }

    /// The first slot whose cumulative count reaches `target`: scanned from the bottom or, for
    /// the upper half of the distribution, down from the max (tails touch few slots).
    func index(atCount target: Int64, total: Int64, range: (first: Int, last: Int)) -> Int {
        let c = counts
        if target <= total / 2 {
            var cum: Int64 = 0
            var i = range.first
            skipBlocks(below: target, cum: &cum, at: &i, last: range.last)
            while i <= range.last {
                cum &+= c[i]
                if cum >= target { return i }
                i &+= 1
            }
            return range.last
        }
        // cum(i) = total - above(i); find the smallest i with cum(i) >= target.
        var above: Int64 = 0
        var i = range.last
        let slack = total &- target   // we may pass over at most this many counts
        while i > range.first {
            let next = above &+ c[i]
            if next > slack { return i }
            above = next
            i &-= 1
        }
        return range.first
    }

    /// Advances `i` over whole 16-slot blocks (their sums vectorise) while the cumulative
    /// count stays below `target`.
    @inline(__always)
    func skipBlocks(below target: Int64, cum: inout Int64, at i: inout Int, last: Int) {
        let c = counts
        while i &+ 16 <= last {
            var block: Int64 = 0
            for k in 0..<16 { block &+= c[i &+ k] }
            if cum &+ block >= target { return }
            cum &+= block
            i &+= 16
        }
    }

    public func value(atPercentile percentile: Double) -> Int64 {
        let total = totalCount
        guard let range = occupiedRange else { return 0 }
        let i = index(atCount: targetCount(percentile, total: total), total: total, range: range)
        return percentile == 0 ? lowestEquivalent(atIndex: i) : highestEquivalent(atIndex: i)
    }

    /// Many percentiles in one pass over the counts (each direction scanned at most once).
    /// `percentiles` must already be validated (0...100, not NaN). ENOMEM when the working
    /// arrays (16 bytes per request) cannot be allocated.
    public func values(atPercentiles percentiles: UnsafePointer<Double>, into out: UnsafeMutablePointer<Int64>,
                       count n: Int) throws(Errno) {
        let total = totalCount
        guard n > 0 else { return }
        guard let range = occupiedRange else {
            for k in 0..<n { out[k] = 0 }
            return
        }
        // Order the requests by target count. n comes from the caller (up to 2^24 through the
        // C ABI, 256 MB of work arrays): malloc, so that a failed allocation is ENOMEM and not
        // an abort, and an in-place heap sort (n log n, no hidden buffer; insertion sort's n^2
        // hung on a million requests).
        let targets = try allocateBuffer(n, of: Int64.self, for: "the percentile work arrays")
        defer { free(targets) }
        let order = try allocateBuffer(n, of: Int.self, for: "the percentile work arrays")
        defer { free(order) }
        for k in 0..<n {
            targets[k] = targetCount(percentiles[k], total: total)
            order[k] = k
        }
        Histogram.heapSort(order, count: n) { targets[$0] < targets[$1] }
        let c = counts
        let half = total / 2
        // Ascending from the bottom for the lower half.
        var cum: Int64 = 0
        var i = range.first
        var pos = 0
        while pos < n && targets[order[pos]] <= half {
            let t = targets[order[pos]]
            skipBlocks(below: t, cum: &cum, at: &i, last: range.last)
            while i < range.last && cum &+ c[i] < t { cum &+= c[i]; i &+= 1 }
            let k = order[pos]
            out[k] = percentiles[k] == 0 ? lowestEquivalent(atIndex: i) : highestEquivalent(atIndex: i)
            pos += 1
        }
        // Descending from the top for the upper half (largest target first).
        var above: Int64 = 0
        var j = range.last
        var q = n - 1
        while q >= pos {
            let k = order[q]
            let slack = total &- targets[k]
            while j > range.first && above &+ c[j] <= slack { above &+= c[j]; j &-= 1 }
            out[k] = percentiles[k] == 0 ? lowestEquivalent(atIndex: j) : highestEquivalent(atIndex: j)
            q -= 1
        }
    }

    /// Sorts `a[0..<n]` in place by `less` (heap sort: no allocation, n log n worst case).
    static func heapSort(_ a: UnsafeMutablePointer<Int>, count n: Int, by less: (Int, Int) -> Bool) {
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while true {
                var child = 2 &* root &+ 1
                if child >= end { return }
                if child &+ 1 < end && less(a[child], a[child &+ 1]) { child &+= 1 }
                if !less(a[root], a[child]) { return }
                let t = a[root]; a[root] = a[child]; a[child] = t
                root = child
            }
        }
        if n < 2 { return }
        var start = n / 2
        while start > 0 { start &-= 1; siftDown(start, n) }
        var end = n
        while end > 1 {
            end &-= 1
            let t = a[0]; a[0] = a[end]; a[end] = t
            siftDown(0, end)
        }
    }

    /// Mean and standard deviation of the median equivalent values, in one pass.
    /// Per bucket region the sums S0 = sum(c), S1 = sum(c*j), S2 = sum(c*j^2) are exact
    /// integers when the total is small enough (the common case); the regions are combined
    /// with Chan's parallel-variance formula, so there is no catastrophic cancellation.
    public func meanAndStdDev() -> (mean: Double, stddev: Double) {
        let total = totalCount
        guard total > 0, let range = occupiedRange else { return (0, 0) }
        let halfMag = Int(hdr.pointee.half_count_magnitude)
        let half = 1 << halfMag
        let unit = Int(hdr.pointee.unit_magnitude)
        let jBits = halfMag + 1   // j < 2 * half = 2^jBits
        let exact = (64 - total.leadingZeroBitCount) + 2 * jBits <= 62
        if !exact { return meanAndStdDevTwoPass(range) }
        // Region r covers bucket r: r = 0 is slots [0, 2*half), r >= 1 is [(r+1)*half, (r+2)*half).
        var stats: [(n: Double, mean: Double, m2: Double)] = []
        stats.reserveCapacity(64)
        var totalN = 0.0, weighted = 0.0
        var bucket = Swift.max((range.first >> halfMag) - 1, 0)
        while true {
            let start = bucket == 0 ? 0 : (bucket + 1) * half
            let end = (bucket == 0 ? 2 * half : (bucket + 2) * half)
            if start > range.last { break }
            let lo = Swift.max(start, range.first), hi = Swift.min(end, range.last + 1)
            let jOffset = bucket == 0 ? 0 : bucket * half   // j = i - jOffset
            if let r = regionMoments(slots: lo..<hi, jOffset: jOffset, shift: bucket + unit) {
                stats.append(r)
                totalN += r.n
                weighted += r.n * r.mean
            }
            if end > range.last { break }
            bucket += 1
        }
        let mean = weighted / totalN
        var m2 = 0.0
        for s in stats {
            let d = s.mean - mean
            m2 += s.m2 + s.n * d * d
        }
        return (mean, (m2 / totalN).squareRoot())
    }

    /// One bucket region's count, mean and M2 (sum of squared deviations from its mean) of the
    /// median equivalent values of `slots`, whose slot i holds j = i - jOffset units of
    /// 2^shift; nil when the region is empty. Exact integer moments (the caller checked that
    /// they fit in 62 bits).
    @inline(__always)
    func regionMoments(slots: Range<Int>, jOffset: Int, shift: Int) -> (n: Double, mean: Double, m2: Double)? {
        let c = counts
        let lo = slots.lowerBound, hi = slots.upperBound
        // Running sums instead of multiplies (one add chain each, 1 cycle per slot):
        // with k = i - lo and r = m - k over the m slots, A = sum(c), B = sum(c r),
        // C = sum(c r (r + 1) / 2); then sum(c k) = m A - B, sum(c k^2) = m^2 A - 2 m B + 2 C - B.
        // Wrapping arithmetic is exact here: every true result fits (checked by the caller).
        var a: Int64 = 0, b: Int64 = 0, cc: Int64 = 0
        var i = lo
        while i < hi {
            a &+= c[i]
            b &+= a
            cc &+= b
            i &+= 1
        }
        let m = Int64(hi - lo)
        let sk = m &* a &- b
        let skk = m &* m &* a &- 2 &* m &* b &+ 2 &* cc &- b
        let j0 = Int64(lo - jOffset)
        let s0 = a
        let s1 = j0 &* a &+ sk
        let s2 = j0 &* j0 &* a &+ 2 &* j0 &* sk &+ skk
        if s0 <= 0 { return nil }
        let step = Double(sign: .plus, exponent: shift, significand: 1)
        let h = Double((Int64(1) << Int64(shift)) >> 1)
        let n = Double(s0)
        let meanJ = Double(s1) / n
        // n * sum(c j^2) - (sum(c j))^2, exactly, in 128 bits.
        let p = s0.multipliedFullWidth(by: s2)
        let q = s1.multipliedFullWidth(by: s1)
        let (lowDiff, borrow) = p.low.subtractingReportingOverflow(q.low)
        let highDiff = p.high &- q.high &- (borrow ? 1 : 0)
        var num = Double(highDiff) * 18446744073709551616.0 + Double(lowDiff)
        if num < 0 {
            let wideP = Double(p.high) * 18446744073709551616.0 + Double(p.low)
            let wideQ = Double(q.high) * 18446744073709551616.0 + Double(q.low)
            num = Swift.max(wideP - wideQ, 0)
        }
        return (n, meanJ * step + h, num / n * step * step)
    }

    /// The plain definition, for totals too large for exact integer moments.
    func meanAndStdDevTwoPass(_ range: (first: Int, last: Int)) -> (mean: Double, stddev: Double) {
        let c = counts
        var n = 0.0, sum = 0.0
        for i in range.first...range.last where c[i] != 0 {
            n += Double(c[i]); sum += Double(c[i]) * Double(medianEquivalent(atIndex: i))
        }
        guard n > 0 else { return (0, 0) }
        let mean = sum / n
        var dev = 0.0
        for i in range.first...range.last where c[i] != 0 {
            let d = Double(medianEquivalent(atIndex: i)) - mean
            dev += d * d * Double(c[i])
        }
        return (mean, (dev / n).squareRoot())
    }

    // MARK: percentile distribution text (HdrHistogram's outputPercentileDistribution)

    /// The largest `ticksPerHalfDistance` the table takes. The text grows with it (about 2.6 KB
    /// per tick for a histogram whose last value is a tail of 2^62 counts: 1000 ticks make
    /// 2.7 MB in 0.2 s, a million would make 2.5 GB); HdrHistogram's usual is 5.
    public static let maxPercentileTicks = 1000

    /// The table HdrHistogram's Java `outputPercentileDistribution(out, ticks, scale)` prints:
    /// a header, one line per percentile tick, then mean/stddev, max/total and bucket lines.
    /// Values are divided by `valueScale`.
    public func percentileDistribution(ticksPerHalfDistance ticks: Int, valueScale: Double) -> [UInt8] {
        var out = TextBuffer()
        out.append("       Value     Percentile TotalCount 1/(1-Percentile)\n\n")
        let d = Int32(digits)
        let total = totalCount
        if total > 0 {
            let c = counts
            let n = countsLength
            var index = -1
            var cumulative: Int64 = 0
            var level = 0.0
            var seenLast = false
            func emit(_ i: Int, _ pct: Double) {
                let v = Double(highestEquivalent(atIndex: i)) / valueScale
                if pct != 100.0 {
                    out.format("%12.*f %2.12f %10lld %14.2f\n", d, v, pct / 100.0, cumulative, 1.0 / (1.0 - pct / 100.0))
                } else {
                    out.format("%12.*f %2.12f %10lld\n", d, v, pct / 100.0, cumulative)
                }
            }
            // Port of the percentile iterator (HdrHistogram_c percentile_iter_next / Java
            // PercentileIterator): same tick arithmetic, including the truncations.
            outer: while true {
                if cumulative >= total {
                    if seenLast { break }
                    seenLast = true
                    emit(Swift.max(index, 0), 100.0)
                    break
                }
                if index == -1 {
                    index = 0
                    cumulative &+= c[0]
                }
                while true {
                    let current = 100.0 * Double(cumulative) / Double(total)
                    if c[index] != 0 && level <= current {
                        emit(index, level)
                        let gap = 100.0 - level
                        let temp = Int64(truncatingDouble: log(100.0 / gap) / log(2.0)) &+ 1
                        let halfDistance = Int64(truncatingDouble: pow(2.0, Double(temp)))
                        let reportingTicks = Int64(ticks) &* halfDistance
                        let next = level + 100.0 / Double(reportingTicks)
                        // Within an ulp of 100 the tick no longer moves the level (totals
                        // above ~1e16): step to the next double instead of looping forever.
                        level = next > level ? next : level.nextUp
                        continue outer
                    }
                    if cumulative >= total || index + 1 >= n { continue outer }
                    index += 1
                    cumulative &+= c[index]
                }
            }
        }
        let (mean, sd) = meanAndStdDev()
        out.format("#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", d, mean / valueScale, d, sd / valueScale)
        out.format("#[Max     = %12.*f, Total count    = %12lld]\n", d, Double(maxValue) / valueScale, total)
        out.format("#[Buckets = %12d, SubBuckets     = %12d]\n", Int32(bucketCount), Int32(subBucketCount))
        return out.bytes
    }
}

extension Int64 {
    /// C's (int64_t) cast of a double, defined for every input (NaN -> 0, saturating).
    @inlinable init(truncatingDouble d: Double) {
        if d.isNaN { self = 0 } else if d >= 9.2233720368547758e18 { self = .max } else if d <= -9.2233720368547758e18 { self = .min } else { self = Int64(d) }
    }
}
