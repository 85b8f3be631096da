// The C ABI for histograms (the recorder's is in LatencyRecorder.swift, the interval log's in
// LatencyLog.swift). Thin: validate, call AlphaCore (Latency/), map Errno to -errno. The record
// functions are the hot path: no allocation, no ARC, nothing but the range check and the bucket
// arithmetic inline.
import AlphaCore
import CAlphaCoreABI
import Glibc

/// The histogram behind a C handle (shared by the three Latency files).
@inline(__always) func hist(_ p: OpaquePointer?) -> Histogram? {
    guard let p else { return nil }
    return Histogram(UnsafeMutableRawPointer(p))
}

// Failures go through the kit's out-of-line `coldFailure` / `nullArgument` (errno kept), so the
// record functions stay a handful of instructions. Functions that can reach a system call or
// the allocator run inside `cStatus` / `cCount`.

/// Why a single-value record failed, as a positive errno (detail set): EINVAL for NULL, else
/// outOfRange's. One cold call for both failures, negated by the caller: as a plain call (not a
/// tail call) it lets the compiler set up the stack frame that the build's
/// -fno-omit-frame-pointer asks for on this cold path only, so the record's fast path has no
/// push/pop at all.
@inline(never) private func refused(_ p: OpaquePointer?, _ value: Int64) -> Int32 {
    guard let h = hist(p) else { return 0 &- nullArgument("histogram") }
    return 0 &- outOfRange(value, h)
}

/// -ERANGE for a value outside the range; -EOVERFLOW (atomic record) for a count at INT64_MAX.
@inline(never) private func outOfRange(_ value: Int64, _ h: Histogram) -> Int32 {
    if h.refusal(for: value) == .countFull { return coldFailure(EOVERFLOW, "this value's count is at INT64_MAX") }
    return coldFailure(ERANGE, "value \(value) is outside the histogram's range 0...\(h.highest)")
}

/// A batch's values pointer when it and n (> 0) are usable; nil (detail set) otherwise.
func batchValues(_ values: UnsafePointer<Int64>?, _ n: Int) -> UnsafePointer<Int64>? {
    guard let values else { let _: Int32 = nullArgument("values"); return nil }
    if n < 0 || n > Int.max / 8 {
        let _: Int32 = coldFailure(EINVAL, "n = \(UInt(bitPattern: n)) values is impossible")
        return nil
    }
    return values
}

// MARK: lifetime

@c @implementation
public func alphacore_hist_create(_ lowest: Int64, _ highest: Int64, _ digits: Int32,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cCreate(out) { () throws(Errno) in
        OpaquePointer(try Histogram.create(lowest: lowest, highest: highest, digits: Int(digits)).base)
    }
}

@c @implementation
public func alphacore_hist_destroy(_ h: OpaquePointer?) { keepingErrno { hist(h)?.destroy() } }

@c @implementation
public func alphacore_hist_copy(_ src: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let s = hist(src) else { return nullArgument("src") }   // before out: *out is left as it was
    return cCreate(out) { () throws(Errno) in OpaquePointer(try s.copy().base) }
}

@c @implementation
public func alphacore_hist_footprint(_ h: OpaquePointer?) -> Int64 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    return Int64(h.footprint)
}

// MARK: recording

@c @implementation
public func alphacore_hist_record(_ h: OpaquePointer?, _ value: Int64) -> Int32 {
    if let hist = hist(h), _fastPath(hist.record(value)) { return 0 }
    return 0 &- refused(h, value)
}

@c @implementation
public func alphacore_hist_record_n(_ h: OpaquePointer?, _ value: Int64, _ count: Int64) -> Int32 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    if UInt64(bitPattern: value) > UInt64(bitPattern: h.highest) { return outOfRange(value, h) }
    if count < 0 { return coldFailure(EINVAL, "count \(count) is negative") }
    if h.record(value, count: count) { return 0 }
    return coldFailure(EOVERFLOW, "recording \(count) more would take the total past 2^62 (ALPHACORE_HIST_MAX_TOTAL)")
}

@c @implementation
public func alphacore_hist_record_atomic(_ h: OpaquePointer?, _ value: Int64) -> Int32 {
    if let hist = hist(h), _fastPath(hist.recordAtomic(value)) { return 0 }
    return 0 &- refused(h, value)
}

@c @implementation
public func alphacore_hist_record_corrected(_ h: OpaquePointer?, _ value: Int64, _ expected: Int64) -> Int32 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    if UInt64(bitPattern: value) > UInt64(bitPattern: h.highest) { return outOfRange(value, h) }
    if h.recordCorrected(value, expectedInterval: expected) { return 0 }
    return coldFailure(EOVERFLOW, "the corrected values would take the total past 2^62 (ALPHACORE_HIST_MAX_TOTAL)")
}

@c @implementation
public func alphacore_hist_record_batch(_ h: OpaquePointer?, _ values: UnsafePointer<Int64>?, _ n: Int) -> Int32 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    if n == 0 { return 0 }
    guard let values = batchValues(values, n) else { return 0 - EINVAL }
    if !h.totalHasRoom(for: Int64(n)) { return batchOverflow(n) }
    if let bad = h.record(batch: values, count: n) { return batchOutOfRange(values[bad], at: bad, highest: h.highest) }
    return 0
}

@inline(never) private func batchOverflow(_ n: Int) -> Int32 {
    coldFailure(EOVERFLOW, "recording \(n) more values would take the total past 2^62 (ALPHACORE_HIST_MAX_TOTAL)")
}

@inline(never) func batchOutOfRange(_ value: Int64, at: Int, highest: Int64) -> Int32 {
    coldFailure(ERANGE, "values[\(at)] = \(value) is outside the range 0...\(highest); nothing recorded")
}

// MARK: queries

@inline(__always) private func validPercentile(_ p: Double) -> Bool { p >= 0 && p <= 100 }  // false for NaN

@c @implementation
public func alphacore_hist_value_at_percentile(_ h: OpaquePointer?, _ percentile: Double) -> Int64 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    guard validPercentile(percentile) else { return coldFailure(EINVAL, "percentile \(percentile) is outside 0...100") }
    return h.value(atPercentile: percentile)
}

@c @implementation
public func alphacore_hist_value_at_percentiles(_ h: OpaquePointer?, _ percentiles: UnsafePointer<Double>?,
                                                _ values: UnsafeMutablePointer<Int64>?, _ n: Int) -> Int32 {
    cStatus { () throws(Errno) in
        guard let h = hist(h) else { throw Errno.fail(EINVAL, "histogram is NULL") }
        if n == 0 { return 0 }
        guard let percentiles else { throw Errno.fail(EINVAL, "percentiles is NULL") }
        guard let values else { throw Errno.fail(EINVAL, "values is NULL") }
        if n < 0 || n > 1 << 24 {
            throw Errno.fail(EINVAL, "n = \(UInt(bitPattern: n)) percentiles is too many (limit 16777216)")
        }
        for k in 0..<n where !validPercentile(percentiles[k]) {
            throw Errno.fail(EINVAL, "percentiles[\(k)] = \(percentiles[k]) is outside 0...100")
        }
        try h.values(atPercentiles: percentiles, into: values, count: n)
        return 0
    }
}

@c @implementation
public func alphacore_hist_min(_ h: OpaquePointer?) -> Int64 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    return h.minValue
}

@c @implementation
public func alphacore_hist_max(_ h: OpaquePointer?) -> Int64 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    return h.maxValue
}

@c @implementation
public func alphacore_hist_mean(_ h: OpaquePointer?) -> Double {
    guard let h = hist(h) else { let _: Int32 = nullArgument("histogram"); return .nan }
    return h.meanAndStdDev().mean
}

@c @implementation
public func alphacore_hist_stddev(_ h: OpaquePointer?) -> Double {
    guard let h = hist(h) else { let _: Int32 = nullArgument("histogram"); return .nan }
    return h.meanAndStdDev().stddev
}

@c @implementation
public func alphacore_hist_mean_stddev(_ h: OpaquePointer?, _ mean: UnsafeMutablePointer<Double>?,
                                       _ stddev: UnsafeMutablePointer<Double>?) -> Int32 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    if mean == nil && stddev == nil { return nullArgument("mean and stddev") }
    let r = h.meanAndStdDev()
    mean?.pointee = r.mean
    stddev?.pointee = r.stddev
    return 0
}

@c @implementation
public func alphacore_hist_total_count(_ h: OpaquePointer?) -> Int64 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    return h.totalCount
}

@c @implementation
public func alphacore_hist_count_at_value(_ h: OpaquePointer?, _ value: Int64) -> Int64 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    guard let c = h.count(atValue: value) else { return coldFailure(ERANGE, "value \(value) is outside the histogram's counts") }
    return c
}

@c @implementation
public func alphacore_hist_reset(_ h: OpaquePointer?) -> Int32 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    h.reset()
    return 0
}

@c @implementation
public func alphacore_hist_add(_ dst: OpaquePointer?, _ src: OpaquePointer?) -> Int64 {
    cCount { () throws(Errno) in
        guard let d = hist(dst) else { throw Errno.fail(EINVAL, "dst is NULL") }
        guard let s = hist(UnsafeMutableRawPointer(src).map { OpaquePointer($0) }) else { throw Errno.fail(EINVAL, "src is NULL") }
        return Int(try d.add(s))
    }
}

// MARK: text and wire format

@c @implementation
public func alphacore_hist_format_percentiles(_ h: OpaquePointer?, _ ticks: Int32, _ scale: Double,
                                              _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int64 {
    cCount { () throws(Errno) in
        guard let h = hist(h) else { throw Errno.fail(EINVAL, "histogram is NULL") }
        guard ticks >= 1, ticks <= Histogram.maxPercentileTicks else {
            throw Errno.fail(EINVAL, "ticks_per_half_distance \(ticks) is outside 1...\(Histogram.maxPercentileTicks)")
        }
        guard scale > 0, scale.isFinite else { throw Errno.fail(EINVAL, "value_scale \(scale) is not a positive finite number") }
        let text = h.percentileDistribution(ticksPerHalfDistance: Int(ticks), valueScale: scale)
        return try writeCString(text, to: buf, capacity: cap)
    }
}

@c @implementation
public func alphacore_hist_encode(_ h: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int64 {
    cCount { () throws(Errno) in
        guard let h = hist(h) else { throw Errno.fail(EINVAL, "histogram is NULL") }
        return try HistogramCodec.withEncoded(h, capacity: buf == nil ? 0 : cap) { t throws(Errno) in try writeCString(t, to: buf, capacity: cap) }
    }
}

@c @implementation
public func alphacore_hist_encode_level(_ h: OpaquePointer?, _ level: Int32, _ buf: UnsafeMutablePointer<CChar>?,
                                       _ cap: Int) -> Int64 {
    cCount { () throws(Errno) in
        guard let h = hist(h) else { throw Errno.fail(EINVAL, "histogram is NULL") }
        return try HistogramCodec.withEncoded(h, level: level, capacity: buf == nil ? 0 : cap) { text throws(Errno) in
            try writeCString(text, to: buf, capacity: cap)
        }
    }
}

@c @implementation
public func alphacore_hist_decode(_ b64: UnsafePointer<CChar>?, _ len: Int,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cCreate(out) { () throws(Errno) in
        guard let b64 else { throw Errno.fail(EINVAL, "b64 is NULL") }
        if len < 0 { throw Errno.fail(E2BIG, "len is larger than any input") }
        let text = UnsafeBufferPointer(start: UnsafeRawPointer(b64).assumingMemoryBound(to: UInt8.self), count: len)
        return OpaquePointer(try HistogramCodec.decode(text).base)
    }
}

@c @implementation
public func alphacore_hist_set_times(_ h: OpaquePointer?, _ start: Int64, _ end: Int64) -> Int32 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    h.startTime = start
    h.endTime = end
    return 0
}

@c @implementation
public func alphacore_hist_get_times(_ h: OpaquePointer?, _ start: UnsafeMutablePointer<Int64>?,
                                     _ end: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let h = hist(h) else { return nullArgument("histogram") }
    start?.pointee = h.startTime
    end?.pointee = h.endTime
    return 0
}
