// C entry points over hdrhistogram-swift, the way a C program would call it: a boxed
// Histogram<UInt64> behind an opaque pointer.
import Histogram

final class Box {
    var h: Histogram<UInt64>
    init(_ h: Histogram<UInt64>) { self.h = h }
}

@_cdecl("hs_create")
public func hs_create(_ lowest: UInt64, _ highest: UInt64) -> UnsafeMutableRawPointer {
    let h = Histogram<UInt64>(lowestDiscernibleValue: lowest, highestTrackableValue: highest,
                              numberOfSignificantValueDigits: .three)
    return Unmanaged.passRetained(Box(h)).toOpaque()
}

@_cdecl("hs_destroy")
public func hs_destroy(_ p: UnsafeMutableRawPointer) { Unmanaged<Box>.fromOpaque(p).release() }

@_cdecl("hs_record")
public func hs_record(_ p: UnsafeMutableRawPointer, _ v: UInt64) -> Bool {
    Unmanaged<Box>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.h.record(v) }
}

@_cdecl("hs_value_at_percentile")
public func hs_value_at_percentile(_ p: UnsafeMutableRawPointer, _ q: Double) -> UInt64 {
    Unmanaged<Box>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.h.valueAtPercentile(q) }
}

@_cdecl("hs_mean")
public func hs_mean(_ p: UnsafeMutableRawPointer) -> Double {
    Unmanaged<Box>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.h.mean }
}

@_cdecl("hs_stddev")
public func hs_stddev(_ p: UnsafeMutableRawPointer) -> Double {
    Unmanaged<Box>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.h.stdDeviation }
}
