// The C ABI for the interval recorder (many writers, one sampler). Thin, as Latency.swift; the
// record is a hot path (one cold call for NULL and out of range, as the histogram's).
import AlphaCore
import CAlphaCoreABI
import Glibc

@inline(__always) private func recorder(_ p: OpaquePointer?) -> Recorder? {
    guard let p else { return nil }
    return Recorder(UnsafeMutableRawPointer(p))
}

@c @implementation
public func alphacore_recorder_create(_ lowest: Int64, _ highest: Int64, _ digits: Int32,
                                      _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cCreate(out) { () throws(Errno) in
        OpaquePointer(try Recorder.create(Histogram.Config(lowest: lowest, highest: highest, digits: Int(digits))).base)
    }
}

@c @implementation
public func alphacore_recorder_destroy(_ r: OpaquePointer?) { keepingErrno { recorder(r)?.destroy() } }

@c @implementation
public func alphacore_recorder_record(_ r: OpaquePointer?, _ value: Int64) -> Int32 {
    if let rec = recorder(r), _fastPath(rec.record(value)) { return 0 }
    return 0 &- recorderRefused(r, value)
}

/// As `refused`: a positive errno, one plain cold call for NULL and out of range.
@inline(never) private func recorderRefused(_ p: OpaquePointer?, _ value: Int64) -> Int32 {
    guard let r = recorder(p) else { return 0 &- nullArgument("recorder") }
    return 0 &- coldFailure(ERANGE, "value \(value) is outside the recorder's range 0...\(r.config.highest)")
}

@c @implementation
public func alphacore_recorder_record_batch(_ r: OpaquePointer?, _ values: UnsafePointer<Int64>?, _ n: Int) -> Int32 {
    guard let r = recorder(r) else { return nullArgument("recorder") }
    if n == 0 { return 0 }
    guard let values = batchValues(values, n) else { return 0 - EINVAL }
    if let bad = r.record(batch: values, count: n) { return batchOutOfRange(values[bad], at: bad, highest: r.config.highest) }
    return 0
}

@c @implementation
public func alphacore_recorder_sample(_ r: OpaquePointer?, _ into: OpaquePointer?) -> Int32 {
    cStatus { () throws(Errno) in
        guard let r = recorder(r) else { throw Errno.fail(EINVAL, "recorder is NULL") }
        guard let into = hist(into) else { throw Errno.fail(EINVAL, "into is NULL") }
        try r.sample(into: into)
        return 0
    }
}
