import Testing
import Glibc
@testable import AlphaCore

@Suite struct MetricNameTests {
    @Test func namesAndLabels() throws {
        try MetricNames.checkMetricName("a:b_c9")
        #expect(throws: Errno(EINVAL)) { try MetricNames.checkMetricName("9a") }
        #expect(throws: Errno(EINVAL)) { try MetricNames.checkMetricName("a b") }
        #expect(throws: Errno(EINVAL)) { try MetricNames.checkLabelName("a:b") }
        let pairs = try MetricNames.parseLabels(#"a="x\"y", b="1\\2\n", "#)
        #expect(pairs.count == 2 && pairs[0].value == "x\"y" && pairs[1].value == "1\\2\n")
        #expect(MetricNames.render(pairs) == #"a="x\"y",b="1\\2\n""#)
        #expect(throws: Errno(EINVAL)) { _ = try MetricNames.parseLabels(#"a="x""#.dropLast().description) }
        #expect(throws: Errno(EINVAL)) { _ = try MetricNames.parseLabels(#"a="\q""#) }
        #expect(try MetricNames.parseLabels("").isEmpty)
    }
}

@Suite struct HTTPTests {
    func parse(_ s: String, maxHeaders: Int = 64) -> HTTPParse {
        let b = Array(s.utf8)
        return b.withUnsafeBufferPointer { HTTP.parse($0, maxHeaders: maxHeaders) }
    }

    @Test func requests() {
        guard case .request(let r, let n) = parse("GET /metrics?x=1 HTTP/1.1\r\nAccept: text/plain\r\n\r\nGET") else {
            Issue.record("not parsed"); return
        }
        #expect(r.path == "/metrics" && r.method == "GET" && r.accept == "text/plain" && !r.closeAfter && n == 49)
        guard case .request(let r0, _) = parse("GET /metrics HTTP/1.0\n\n") else { Issue.record("1.0"); return }
        #expect(r0.closeAfter)
        guard case .incomplete = parse("GET /metrics HTTP/1.1\r\nA: b\r\n") else { Issue.record("incomplete"); return }
        guard case .failure(400, _) = parse("GET /metrics\r\n\r\n") else { Issue.record("400"); return }
        guard case .failure(400, _) = parse("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n") else { Issue.record("body"); return }
        guard case .failure(413, _) = parse("GET / HTTP/1.1\r\n" + String(repeating: "a: b\r\n", count: 5) + "\r\n", maxHeaders: 4)
        else { Issue.record("413"); return }
        guard case .failure(413, _) = parse("GET / HTTP/1.1\r\n" + String(repeating: "a: b\r\n", count: 9), maxHeaders: 4)
        else { Issue.record("413 early"); return }
    }

    @Test func negotiation() {
        #expect(HTTP.negotiate("") == .text)
        #expect(HTTP.negotiate("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3") == .protobuf)
        #expect(HTTP.negotiate("application/vnd.google.protobuf;proto=other;encoding=delimited,text/plain") == .text)
        #expect(HTTP.negotiate("application/openmetrics-text;version=1.0.0,text/plain;q=0.5") == .openMetrics)
        #expect(HTTP.negotiate("application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.5") == .text)
        #expect(HTTP.wantsGzip("deflate, gzip"))
        #expect(!HTTP.wantsGzip("gzip;q=0"))
    }
}

@Suite struct NativeHistogramTests {
    @Test func spansAndDeltas() throws {
        let h = try Histogram.create(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        defer { h.destroy() }
        for (v, n) in [(0, 4), (1000, 3), (1500, 2), (2_000_000, 1)] as [(Int64, Int64)] { _ = h.record(v, count: n) }
        let scratch = ScrapeScratch()
        guard let r = HistogramReading.read(.histogram(h), scratch: scratch) else { Issue.record("no reading"); return }
        let nb = NativeBuckets(r, schema: 3, scale: 1e-9)
        #expect(nb.zeroCount == 4)
        #expect(nb.spans.map { $0.offset } == [-159, 4, 82])
        #expect(nb.spans.map { $0.length } == [1, 1, 1])
        #expect(nb.deltas == [3, -1, -1])
        // Gaps of up to two empty buckets stay inside one span as zero deltas.
        _ = h.record(1300, count: 1)   // bucket -156: two empty buckets from -159's neighbour
        let nb2 = NativeBuckets(r, schema: 3, scale: 1e-9)
        #expect(nb2.spans.map { $0.offset } == [-159, 82])
        #expect(nb2.spans.map { $0.length } == [6, 1])
        #expect(nb2.deltas == [3, -3, 0, 1, -1, 2, -1])
        #expect(MetricsRegistry.finestSchema(h) == 8)
        let h1 = try Histogram.create(lowest: 1, highest: 1_000_000, digits: 1)
        defer { h1.destroy() }
        #expect(MetricsRegistry.finestSchema(h1) == 3)
    }

    @Test func classicCumulative() throws {
        let h = try Histogram.create(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        defer { h.destroy() }
        _ = h.record(1000, count: 10)
        _ = h.record(3_000_000, count: 5)
        let scratch = ScrapeScratch()
        guard let r = HistogramReading.read(.histogram(h), scratch: scratch) else { Issue.record("no reading"); return }
        let cum = r.cumulative(bounds: HistogramExport.latencyLadder, scale: 1e-9)
        #expect(cum.first == 10)
        #expect(cum.last == 15)
        #expect(HistogramExport.latencyLadder.count == 22)
    }

    @Test func totalsMatchSlotBySlot() throws {
        for lowest in [1, 1000] as [Int64] {
            let h = try Histogram.create(lowest: lowest, highest: 3_600_000_000_000, digits: 3)
            defer { h.destroy() }
            var x: UInt64 = 88172645463325252
            for _ in 0..<20000 {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17
                _ = h.record(Int64(x % 50_000_000_000))
            }
            _ = h.record(0, count: 3)
            let scratch = ScrapeScratch()
            guard let r = HistogramReading.read(.histogram(h), scratch: scratch) else { Issue.record("no reading"); return }
            var want = 0.0
            for i in 0..<h.countsLength where h.counts[i] != 0 { want += Double(h.counts[i]) * Double(h.medianEquivalent(atIndex: i)) }
            let (count, sum) = r.totals()
            #expect(count == 20003)
            #expect(abs(sum - want) <= want * 1e-12)
        }
    }
}
