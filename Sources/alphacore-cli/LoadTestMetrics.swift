// `alphacore loadtest --metrics ADDR` (issue 11): the run's two recorders served live to
// Prometheus as alphacore_loadtest_latency_seconds{kind="corrected"|"raw"}, plus messages sent and
// received. Scrapes read the recorders' shards in place; the interval log is undisturbed.
import AlphaCore
import ArgumentParser
import Glibc

struct MetricsSink: LoadTestSink {
    let registry = MetricsRegistry()
    var server: MetricsServer?
    let shared: LoadTestShared
    let sent: UnsafeMutablePointer<Int64>, received: UnsafeMutablePointer<Int64>

    init(address: String, latencies lat: LoadTestLatencies, shared: LoadTestShared) throws {
        self.shared = shared
        do throws(Errno) {
            let help = "Feed latency of the load test (send to seen), cumulative over the run."
            try registry.registerHistogram(name: "alphacore_loadtest_latency", help: help, labels: #"kind="corrected""#,
                                           source: .recorder(lat.corrected))
            try registry.registerHistogram(name: "alphacore_loadtest_latency", help: help, labels: #"kind="raw""#,
                                           source: .recorder(lat.raw))
            sent = try registry.registerGauge(name: "alphacore_loadtest_sent_messages", help: "Messages the producer sent so far.", labels: "")
            received = try registry.registerGauge(name: "alphacore_loadtest_received_messages", help: "Messages the consumer saw so far.", labels: "")
            server = try MetricsServer.start(registry: registry, listen: address, options: ServeOptions())
        } catch {
            throw LoadTestRun.fail("--metrics \(address)", error)
        }
        let host = Self.hostPart(address)
        if let s = server {
            Output.error("alphacore loadtest: metrics at http://\(host.isEmpty || host == "localhost" ? "127.0.0.1" : host):\(s.port)/metrics")
        }
    }

    static func hostPart(_ a: String) -> String {
        guard let colon = a.utf8.lastIndex(of: 58) else { return a }
        return String(a[a.startIndex..<colon])
    }

    mutating func begin(startNs: Int64) {}

    mutating func record(_ i: LoadTestInterval) {
        sent.pointee = Int64(shared.get(.sent))
        received.pointee = Int64(shared.get(.received))
    }

    mutating func close() {
        server?.stop()
        server = nil
    }
}
