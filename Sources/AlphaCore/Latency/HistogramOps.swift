import Glibc

/// Whole-histogram operations: reset, extremes, summary, add.
extension Histogram {
    // MARK: whole-histogram operations

    public func reset() {
        memset(counts, 0, countsLength * 8)
        let h = hdr
        h.pointee.total_count = 0
        h.pointee.total_from_counts = 0
        h.pointee.min_nonzero = Int64.max
        h.pointee.max_value = 0
        h.pointee.start_ns = 0
        h.pointee.end_ns = 0
    }

    public var maxValue: Int64 {
        let m = hdr.pointee.max_value
        return m == 0 ? 0 : highestEquivalent(m)
    }

    public var minValue: Int64 {
        if totalCount == 0 || counts[0] > 0 { return 0 }
        let m = hdr.pointee.min_nonzero
        return m == Int64.max ? 0 : lowestEquivalent(m)
    }

    /// Raw extremes as recorded (not rounded to the bucket).
    public var rawMax: Int64 { hdr.pointee.max_value }
    public var rawMinNonZero: Int64 { hdr.pointee.min_nonzero }

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
        hdr.pointee.total_count = total
        hdr.pointee.total_from_counts = 0
        if last >= 0 {
            hdr.pointee.max_value = highestEquivalent(atIndex: last)
            // The lowest non-zero value: slot 0 counts zeros, which min ignores.
            var firstNonZero = first
            if first == 0 {
                firstNonZero = -1
                for i in 1..<countsLength where c[i] != 0 { firstNonZero = i; break }
            }
            hdr.pointee.min_nonzero = firstNonZero < 0 ? Int64.max : lowestEquivalent(atIndex: firstNonZero)
        } else {
            hdr.pointee.max_value = 0
            hdr.pointee.min_nonzero = Int64.max
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
        settleTotal()
        if !totalHasRoom(for: srcTotal) {
            throw Errno.fail(EOVERFLOW, "adding \(srcTotal) counts would overflow the destination total")
        }
        let dc = counts
        if sameLayout(src) && src.base != base {
            // A count can overflow only if the total would, which we excluded.
            for i in 0..<n { dc[i] &+= sc[i] }
            hdr.pointee.total_count &+= srcTotal
            let smin = src.rawMinNonZero, smax = src.rawMax
            if smin < rawMinNonZero { hdr.pointee.min_nonzero = smin }
            if smax > rawMax { hdr.pointee.max_value = smax }
            mergeTimes(src)
            return 0
        }
        if src.base == base {
            for i in 0..<n { dc[i] &+= dc[i] }
            hdr.pointee.total_count &+= srcTotal
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
