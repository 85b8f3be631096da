import CAlphaCoreShims
import Glibc
import Synchronization

/// The fast clocks: CLOCK_MONOTONIC through the vDSO, and the CPU cycle counter with a
/// once-calibrated conversion to nanoseconds.
public enum Clock {
    /// CLOCK_MONOTONIC in nanoseconds.
    @inline(__always)
    public static func nowNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(truncatingIfNeeded: ts.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: ts.tv_nsec)
    }

    /// The cycle counter (rdtsc on x86-64, cntvct_el0 on arm64).
    @inline(__always)
    public static func cycles() -> UInt64 { acshim_cycles() }

    /// Converts cycles to nanoseconds: `cycles * 1e9 / hz` as a 64.64 fixed-point product,
    /// exact to 1 ns against the calibrated frequency, saturating at UInt64.max.
    @inline(__always)
    public static func nanoseconds(fromCycles cycles: UInt64) -> UInt64 {
        if !calibrationReady.load(ordering: .acquiring) { calibrate() }
        return scale(cycles, whole: calibrationWhole.load(ordering: .relaxed),
                     fraction: calibrationFraction.load(ordering: .relaxed))
    }

    /// `cycles * (whole + fraction / 2^64)`, saturating.
    @inline(__always)
    static func scale(_ cycles: UInt64, whole: UInt64, fraction: UInt64) -> UInt64 {
        let (wholeHigh, wholeLow) = cycles.multipliedFullWidth(by: whole)
        let (fractionHigh, _) = cycles.multipliedFullWidth(by: fraction)
        if wholeHigh != 0 { return UInt64.max }
        let (sum, overflow) = wholeLow.addingReportingOverflow(fractionHigh)
        return overflow ? UInt64.max : sum
    }

    /// The calibrated counter frequency in Hz.
    public static var cyclesPerSecond: UInt64 {
        if !calibrationReady.load(ordering: .acquiring) { calibrate() }
        return calibrationHz.load(ordering: .relaxed)
    }

    /// Calibrates once per process; concurrent first callers agree on one published value.
    static func calibrate() {
        if calibrationReady.load(ordering: .acquiring) { return }
        var hz = acshim_cycles_frequency()
        if hz == 0 { hz = measureFrequency() }
        if hz == 0 { hz = 1_000_000_000 }  // no usable counter: treat cycles as nanoseconds
        if calibrationHz.compareExchange(expected: 0, desired: hz, ordering: .relaxed).exchanged {
            // 1e9 / hz as whole + fraction / 2^64.
            let whole = 1_000_000_000 / hz
            let (fraction, _) = hz.dividingFullWidth((high: 1_000_000_000 % hz, low: 0))
            calibrationWhole.store(whole, ordering: .relaxed)
            calibrationFraction.store(fraction, ordering: .relaxed)
            calibrationReady.store(true, ordering: .releasing)
        } else {
            // Another thread is publishing its measurement: wait for it (microseconds).
            while !calibrationReady.load(ordering: .acquiring) { acshim_cpu_relax() }
        }
    }

    /// Measures the counter against CLOCK_MONOTONIC_RAW over about 10 ms, taking each end as
    /// the tightest of a few bracketed samples.
    static func measureFrequency() -> UInt64 {
        func sample() -> (cycles: UInt64, ns: UInt64) {
            var best: (cycles: UInt64, ns: UInt64, width: UInt64) = (0, 0, .max)
            for _ in 0..<5 {
                var ts = timespec()
                let before = acshim_cycles()
                clock_gettime(CLOCK_MONOTONIC_RAW, &ts)
                let after = acshim_cycles()
                let width = after &- before
                if width < best.width {
                    let ns = UInt64(truncatingIfNeeded: ts.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: ts.tv_nsec)
                    best = (before &+ width / 2, ns, width)
                }
            }
            return (best.cycles, best.ns)
        }
        let start = sample()
        var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        var left = timespec()
        while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
        let end = sample()
        let dc = end.cycles &- start.cycles
        let dns = end.ns &- start.ns
        guard dns > 0, dc > 0, end.cycles > start.cycles else { return 0 }
        let (high, low) = dc.multipliedFullWidth(by: 1_000_000_000)
        guard high < dns else { return 0 }
        return dns.dividingFullWidth((high: high, low: low)).quotient
    }
}

// Published calibration: hz, and 1e9/hz as a 64.64 fixed-point number. `calibrationReady`
// is stored last with release ordering, so a reader that sees it true sees the rest.
private let calibrationReady = Atomic<Bool>(false)
private let calibrationHz = Atomic<UInt64>(0)
private let calibrationWhole = Atomic<UInt64>(0)
private let calibrationFraction = Atomic<UInt64>(0)
