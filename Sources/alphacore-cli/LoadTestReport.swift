// The load test's reporting: its recorders and histograms, one interval a second handed to
// every sink (the interval log, the progress line; `--metrics` adds one), the formats.
import AlphaCore
import ArgumentParser
import Glibc

/// The recorders the consumer records into, this second's intervals and the run's totals.
struct LoadTestLatencies {
    let corrected: Recorder, raw: Recorder
    let interval: Histogram, intervalRaw: Histogram, total: Histogram, totalRaw: Histogram

    init() throws {
        guard let hist = try? Histogram.Config(lowest: 1, highest: 3_600_000_000_000, digits: 3) else { throw ExitCode(1) }
        var made: [Histogram] = []
        var recorders: [Recorder] = []
        do throws(Errno) {
            recorders.append(try Recorder.create(hist))
            recorders.append(try Recorder.create(hist))
            for _ in 0..<4 { made.append(try Histogram.create(hist)) }
        } catch {
            for r in recorders { r.destroy() }
            for h in made { h.destroy() }
            throw LoadTestRun.fail("cannot create the recorders", error)
        }
        corrected = recorders[0]; raw = recorders[1]
        interval = made[0]; intervalRaw = made[1]; total = made[2]; totalRaw = made[3]
    }

    func destroy() {
        corrected.destroy(); raw.destroy(); interval.destroy(); intervalRaw.destroy(); total.destroy(); totalRaw.destroy()
    }
}

/// One interval: this second's histograms (corrected and raw) and the message rate.
struct LoadTestInterval {
    let final: Bool
    let rate: Int
    let startNs: Int64
    let corrected: Histogram
    let raw: Histogram
}

/// Where the intervals go. A sink must not keep the histograms past `record`.
protocol LoadTestSink {
    mutating func begin(startNs: Int64)
    mutating func record(_ i: LoadTestInterval)
    mutating func close()
}

/// Takes an interval from the recorders once a second until the producer is done.
struct LoadTestIntervals {
    let lat: LoadTestLatencies
    let shared: LoadTestShared
    let startNs = Recorder.realtimeNs()
    var lastReceived = 0
    var lastT = Clock.nowNanoseconds()

    init(_ lat: LoadTestLatencies, shared: LoadTestShared) {
        self.lat = lat
        self.shared = shared
        try? lat.corrected.sample(into: lat.interval)   // start the intervals now
        try? lat.raw.sample(into: lat.intervalRaw)
    }

    /// The interval since the last one; added to the totals.
    mutating func next(final: Bool) -> LoadTestInterval {
        try? lat.corrected.sample(into: lat.interval)
        try? lat.raw.sample(into: lat.intervalRaw)
        let now = Clock.nowNanoseconds()
        let got = shared.get(.received)
        let secs = Double(now &- lastT) / 1e9
        let rate = secs > 0 ? Int(Double(got - lastReceived) / secs) : 0
        lastReceived = got
        lastT = now
        _ = try? lat.total.add(lat.interval)
        _ = try? lat.totalRaw.add(lat.intervalRaw)
        return LoadTestInterval(final: final, rate: rate, startNs: startNs, corrected: lat.interval, raw: lat.intervalRaw)
    }

    /// One interval a second to every sink while the run lasts.
    mutating func loop(until end: UInt64, sinks: inout [any LoadTestSink]) {
        while Clock.cycles() < end && shared.get(.producerDone) == 0 {
            let due = lastT + 1_000_000_000
            while Clock.nowNanoseconds() < due && shared.get(.producerDone) == 0 { usleep(10_000) }
            if shared.get(.producerDone) != 0 { break }
            let i = next(final: false)
            for k in sinks.indices { sinks[k].record(i) }
        }
    }
}

/// The HdrHistogram interval log (tags "corrected" and "raw").
struct IntervalLogSink: LoadTestSink {
    let fd: Int32

    init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw LoadTestRun.fail("cannot write the interval log", Errno.fromErrno("open \(path)")) }
    }

    func emit(_ bytes: [UInt8]) {
        _ = Output.writeAll(fd, String(decoding: bytes, as: UTF8.self))
    }

    mutating func begin(startNs: Int64) { emit(IntervalLog.header(startNs: startNs, baseNs: 0)) }

    mutating func record(_ i: LoadTestInterval) {
        if let line = try? IntervalLog.line(i.corrected, tag: "corrected", baseNs: i.startNs, maxValueDivisor: 1e6) { emit(line) }
        if let line = try? IntervalLog.line(i.raw, tag: "raw", baseNs: i.startNs, maxValueDivisor: 1e6) { emit(line) }
    }

    mutating func close() { _ = Glibc.close(fd) }
}

/// The line a second on stdout.
struct ProgressSink: LoadTestSink {
    var second = 0

    mutating func begin(startNs: Int64) {}

    mutating func record(_ i: LoadTestInterval) {
        if i.final && i.corrected.totalCount == 0 { return }
        second += 1
        Output.write("[\(i.final ? "end" : String(second) + " s")] \(LoadTestFormat.grouped(i.rate)) msg/s  "
            + "\(LoadTestFormat.percentiles(i.corrected, separator: "  "))  (raw max \(DoctorFormat.nanos(i.raw.maxValue)))\n")
    }

    mutating func close() {}
}

enum LoadTestFormat {
    /// "p50 X<sep>p99 X<sep>p99.9 X<sep>max X".
    static func percentiles(_ h: Histogram, separator: String) -> String {
        let p = { (q: Double) in DoctorFormat.nanos(h.value(atPercentile: q)) }
        return ["p50 \(p(50))", "p99 \(p(99))", "p99.9 \(p(99.9))", "max \(DoctorFormat.nanos(h.maxValue))"]
            .joined(separator: separator)
    }

    static func backend(_ b: ReaderBackend) -> String { b == .ioURing ? "io_uring" : "epoll" }

    /// 1234567 -> "1,234,567".
    static func grouped(_ v: Int) -> String {
        let s = String(v)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}
