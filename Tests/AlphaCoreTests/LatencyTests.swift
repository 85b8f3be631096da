import Testing
import Glibc
@testable import AlphaCore

@Suite struct HistogramConfigTests {
    @Test func bucketArithmeticMatchesHdrHistogram() throws {
        let c = try Histogram.Config(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        #expect(c.subBucketCount == 2048)
        #expect(c.unitMagnitude == 0)
        #expect(c.halfCountMagnitude == 10)
        #expect(c.bucketCount == 32)
        #expect(c.countsLength == 33792)
        #expect(c.footprint == 270_440)
        #expect(MemoryLayout<Int64>.size * Int(c.countsLength) + Histogram.headerSize == 270_440)
        let d = try Histogram.Config(lowest: 1000, highest: 1_000_000_000_000, digits: 4)
        #expect(d.unitMagnitude == 9)
        #expect(d.subBucketCount == 32768)
    }

    @Test func rejectsBadConfigurations() {
        #expect(throws: Errno(EINVAL)) { try Histogram.Config(lowest: 0, highest: 10, digits: 3) }
        #expect(throws: Errno(EINVAL)) { try Histogram.Config(lowest: 1, highest: 10, digits: 6) }
        #expect(throws: Errno(EINVAL)) { try Histogram.Config(lowest: 6, highest: 11, digits: 3) }
        #expect(throws: Errno(EINVAL)) { try Histogram.Config(lowest: Int64.max / 2 + 1, highest: Int64.max, digits: 1) }
    }
}

@Suite struct HistogramTests {
    @Test func indexAndEquivalentValues() throws {
        let h = try Histogram.create(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        defer { h.destroy() }
        #expect(h.index(of: 0) == 0)
        #expect(h.index(of: 2047) == 2047)
        #expect(h.index(of: 2048) == 2048)
        #expect(h.index(of: 2049) == 2048)
        #expect(h.value(atIndex: 2048) == 2048)
        #expect(h.highestEquivalent(atIndex: 2048) == 2049)
        #expect(h.lowestEquivalent(1_000_000) == 999_936)
        #expect(h.highestEquivalent(1_000_000) == 1_000_447)
        #expect(h.index(of: 3_600_000_000_000) < h.countsLength)
    }

    @Test func recordRangeAndSummary() throws {
        let h = try Histogram.create(lowest: 1, highest: 1000, digits: 3)
        defer { h.destroy() }
        #expect(h.record(-1) == false)
        #expect(h.record(1001) == false)
        #expect(h.totalCount == 0)
        #expect(h.record(0))
        #expect(h.record(500))
        #expect(h.record(1000))
        #expect(h.totalCount == 3)
        #expect(h.minValue == 0)
        #expect(h.maxValue == 1000)
        #expect(h.value(atPercentile: 50) == 500)
        #expect(h.value(atPercentile: 0) == 0)
        #expect(h.value(atPercentile: 100) == 1000)
    }

    @Test func codecRoundTripAndRejectsGarbage() throws {
        let h = try Histogram.create(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        defer { h.destroy() }
        for v in stride(from: Int64(1), to: 10_000_000, by: 997) { _ = h.record(v) }
        let text = try HistogramCodec.encode(h)
        let back = try text.withUnsafeBufferPointer { (b: UnsafeBufferPointer<UInt8>) throws(Errno) -> Histogram in
            try HistogramCodec.decode(b)
        }
        defer { back.destroy() }
        #expect(back.totalCount == h.totalCount)
        #expect(try HistogramCodec.encode(back) == text)
        let junk: [UInt8] = Array("HISTFAAAAB14nJNpmSzM".utf8)
        #expect(throws: Errno.format) {
            try junk.withUnsafeBufferPointer { (b: UnsafeBufferPointer<UInt8>) throws(Errno) -> Histogram in
                try HistogramCodec.decode(b)
            }
        }
    }

    @Test func everyEncodeLevelDecodesToTheSameCounts() throws {
        let h = try Histogram.create(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        defer { h.destroy() }
        for v in stride(from: Int64(0), to: 50_000_000, by: 1009) { _ = h.record(v) }
        let reference = try HistogramCodec.encode(h)
        #expect(try HistogramCodec.encode(h, level: -1) == reference)
        for level in Int32(0)...9 {
            let text = try HistogramCodec.encode(h, level: level)
            let back = try text.withUnsafeBufferPointer { (b: UnsafeBufferPointer<UInt8>) throws(Errno) -> Histogram in
                try HistogramCodec.decode(b)
            }
            #expect(try HistogramCodec.encode(back) == reference)
            back.destroy()
        }
        #expect(throws: Errno(EINVAL)) { _ = try HistogramCodec.encode(h, level: 10) }
        #expect(throws: Errno(EINVAL)) { _ = try HistogramCodec.encode(h, level: -2) }
    }

    @Test func meanAndStdDevExactPathAgreesWithTwoPass() throws {
        let h = try Histogram.create(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        defer { h.destroy() }
        var x: UInt64 = 12345
        for _ in 0..<50_000 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            _ = h.record(Int64(x >> 40))
        }
        let fast = h.meanAndStdDev()
        let slow = h.meanAndStdDevTwoPass(h.occupiedRange!)
        #expect(abs(fast.mean - slow.mean) <= 1e-9 * slow.mean)
        #expect(abs(fast.stddev - slow.stddev) <= 1e-9 * slow.stddev)
    }

    @Test func reportReadsEncodedAndLogs() throws {
        let h = try Histogram.create(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        defer { h.destroy() }
        for v in 1...1000 { _ = h.record(Int64(v) * 1000) }
        let single = try HistogramReport.percentileTable(try HistogramCodec.encode(h), valueScale: 1000)
        let text = String(decoding: single, as: UTF8.self)
        #expect(text.contains("Total count    =         1000]"))
        h.startTime = 1_700_000_000_000_000_000
        h.endTime = h.startTime + 1_000_000_000
        var log = IntervalLog.header(startNs: h.startTime, baseNs: 0)
        log += try IntervalLog.line(h, tag: nil, baseNs: 0, maxValueDivisor: 1e6)
        log += try IntervalLog.line(h, tag: "x", baseNs: 0, maxValueDivisor: 1e6)
        let both = String(decoding: try HistogramReport.percentileTable(log), as: UTF8.self)
        #expect(both.contains("Total count    =         2000]"))
        let tagged = String(decoding: try HistogramReport.percentileTable(log, tag: "x"), as: UTF8.self)
        #expect(tagged.contains("Total count    =         1000]"))
        #expect(throws: Errno.format) { try HistogramReport.percentileTable(Array("nothing here\n".utf8)) }
    }
}
