// One `alphacore loadtest` run: sockets, the consumer and producer threads, the once-a-second
// intervals handed to the sinks (LoadTestReport.swift), the summary.
import AlphaCore
import ArgumentParser
import Glibc

/// The consumer and producer live in boxes the threads share with the reporting thread.
final class ConsumerBox: @unchecked Sendable {
    var consumer: FeedConsumer
    var pin = ""
    init(_ c: FeedConsumer) { consumer = c }
}

final class ProducerBox: @unchecked Sendable {
    var producer: FeedProducer
    var pin = ""
    init(_ p: FeedProducer) { producer = p }
}

struct LoadTestRun {
    let config: LoadTestConfig
    init(_ c: LoadTestConfig) { config = c }

    static func fail(_ what: String, _ e: Errno) -> ExitCode {
        Output.error("alphacore loadtest: \(CommandFailure(what, e))")
        return ExitCode(1)
    }

    func run() throws -> Bool {
        let lat = try LoadTestLatencies()
        defer { lat.destroy() }
        let pairs = try openPairs()
        defer { for (a, b) in pairs { close(a); close(b) } }
        var sinks: [any LoadTestSink] = []
        if let path = config.logPath { sinks.append(try IntervalLogSink(path: path)) }
        if config.progress { sinks.append(ProgressSink()) }
        let shared = LoadTestShared()
        if let address = config.metricsAddress { sinks.append(try MetricsSink(address: address, latencies: lat, shared: shared)) }
        defer { for i in sinks.indices { sinks[i].close() } }

        let cbox = ConsumerBox(FeedConsumer(fds: pairs.map(\.1), config: config, shared: shared,
                                            corrected: lat.corrected, raw: lat.raw))
        let consumerThread = try startConsumer(cbox, shared)
        printHeader(cbox)

        let hz = Clock.cyclesPerSecond
        let start = Clock.cycles() &+ hz / 100
        let end = start &+ UInt64(Double(hz) * config.seconds)
        let pbox = ProducerBox(FeedProducer(fds: pairs.map(\.0), config: config, shared: shared))
        guard let producerThread = startProducer(pbox, start: start, end: end) else {
            shared.set(.stop, 1)
            pthread_join(consumerThread, nil)
            throw Self.fail("cannot start the producer thread", Errno(EAGAIN))
        }
        // Intervals at the threads' priority, so that a loaded machine does not starve the
        // reports of a real-time run.
        if config.realtime != nil { _ = Self.schedule(config) }
        var intervals = LoadTestIntervals(lat, shared: shared)
        for i in sinks.indices { sinks[i].begin(startNs: intervals.startNs) }
        intervals.loop(until: end, sinks: &sinks)
        pthread_join(producerThread, nil)
        shared.set(.stop, 1)
        pthread_join(consumerThread, nil)
        let last = intervals.next(final: true)
        for i in sinks.indices { sinks[i].record(last) }
        return summarise(lat, shared: shared, cbox: cbox, pbox: pbox, start: start)
    }

    /// The TCP and UDP loopback pairs (producer side, consumer side).
    func openPairs() throws -> [(Int32, Int32)] {
        var pairs: [(Int32, Int32)] = []
        do throws(Errno) {
            pairs = try Loopback.tcpPairs(config.tcp)
            pairs += try Loopback.udpPairs(config.udp)
        } catch {
            for (a, b) in pairs { close(a); close(b) }
            throw Self.fail("cannot open \(config.tcp) TCP and \(config.udp) UDP loopback connections", error)
        }
        return pairs
    }

    /// Starts the consumer (pinned, then its reader on that thread) and waits until it is ready.
    func startConsumer(_ cbox: ConsumerBox, _ shared: LoadTestShared) throws -> pthread_t {
        let config = config
        guard let thread = PThread.start({
            if let cpu = config.consumerCPU { cbox.pin = Self.pin(cpu) }
            cbox.pin += Self.schedule(config)
            cbox.consumer.run()
        }) else { throw Self.fail("cannot start the consumer thread", Errno(EAGAIN)) }
        while shared.get(.consumerReady) == 0 { usleep(1000) }
        if shared.get(.consumerReady) < 0 {
            pthread_join(thread, nil)
            Output.error("alphacore loadtest: \(cbox.consumer.error ?? "the consumer failed")")
            throw ExitCode(1)
        }
        return thread
    }

    func startProducer(_ pbox: ProducerBox, start: UInt64, end: UInt64) -> pthread_t? {
        let config = config
        return PThread.start({
            if let cpu = config.producerCPU { pbox.pin = Self.pin(cpu) }
            pbox.pin += Self.schedule(config)
            pbox.producer.run(startCycles: start, endCycles: end)
        })
    }

    /// The header: the shape of the feed, the profile and the backend, then the consumer.
    func printHeader(_ cbox: ConsumerBox) {
        let d = cbox.consumer.details
        let huge = d.flags.contains(.hugePages) ? "huge pages" : "4 KiB pages"
        let spin = d.profile == .spin ? ", spin budget \(d.spinMicros) us" : ""
        Output.write("loadtest: profile \(config.profile.rawValue), backend \(LoadTestFormat.backend(d.backend))\(spin); "
            + "\(config.tcp) TCP + \(config.udp) UDP loopback connections, \(LoadTestFormat.grouped(Int(config.rate))) msg/s target, "
            + "\(config.size) B messages, \(config.batch) per write, \(config.seconds) s\n")
        Output.write("consumer: reader on \(LoadTestFormat.backend(d.backend)) (\(d.reason)), buffers on \(huge), "
            + "CPU \(config.consumerCPU.map(String.init) ?? "any") \(cbox.pin)\n")
    }

    /// The percentile table and the summary lines; whether everything arrived intact.
    func summarise(_ lat: LoadTestLatencies, shared: LoadTestShared, cbox: ConsumerBox, pbox: ProducerBox,
                   start: UInt64) -> Bool {
        let sent = shared.get(.sent), received = shared.get(.received)
        let lost = shared.get(.lost), corrupt = shared.get(.corrupt)
        let g = LoadTestFormat.grouped
        Output.write("\nLatency from the scheduled send time (corrected for coordinated omission), microseconds:\n")
        Output.write(String(decoding: lat.total.percentileDistribution(ticksPerHalfDistance: 5, valueScale: 1000), as: UTF8.self))
        Output.write("\nsummary: sent \(g(sent)), received \(g(received)), lost \(lost), corrupt \(corrupt), errors \(shared.get(.errors) + pbox.producer.writeErrors)\n")
        let span = Double(Clock.nanoseconds(fromCycles: max(cbox.consumer.lastArrival, start) &- start)) / 1e9
        let lag = DoctorFormat.nanos(Int64(Clock.nanoseconds(fromCycles: pbox.producer.maxLagCycles)))
        Output.write("achieved: \(g(Int(Double(received) / max(span, 1e-9)))) msg/s over \(Double(Int(span * 1000)) / 1000) s (first send to last arrival); "
            + "producer on CPU \(config.producerCPU.map(String.init) ?? "any") \(pbox.pin), behind schedule by at most \(lag)\n")
        Output.write("corrected: \(LoadTestFormat.percentiles(lat.total, separator: ", "))\n")
        Output.write("raw:       \(LoadTestFormat.percentiles(lat.totalRaw, separator: ", "))\n")
        if let c = cbox.consumer.counters {
            let perMsg = received > 0 ? Double(c.syscalls) / Double(received) : 0
            Output.write("reader: \(LoadTestFormat.backend(cbox.consumer.details.backend)), profile \(config.profile.rawValue), \(c.polls) polls, "
                + "\(c.syscalls) system calls (\(Double(Int(perMsg * 100000)) / 100000) per message), \(c.completions) completions, "
                + "\(c.enobufs) ENOBUFS, \(c.overflows) overflows\n")
        }
        if let path = config.logPath { Output.write("interval log: \(path)\n") }
        if let e = cbox.consumer.error { Output.error("alphacore loadtest: consumer: \(e)") }
        // TCP must deliver everything; UDP may drop under overload (reported as lost).
        let tcpShortfall = config.udp == 0 && received != sent
        return cbox.consumer.error == nil && corrupt == 0 && !tcpShortfall && (config.udp > 0 || lost == 0)
    }

    /// Applies --realtime / --nice to the calling thread; words for the report.
    static func schedule(_ c: LoadTestConfig) -> String {
        do throws(Errno) {
            if let p = c.realtime { try Scheduling.setRealtime(policy: .fifo, priority: p); return " SCHED_FIFO \(p)" }
            if let n = c.nice { try Scheduling.setNice(n); return " nice \(n)" }
        } catch {
            return " (scheduling unchanged: \(Detail.current))"
        }
        return ""
    }

    /// Pins the calling thread; "" or "(not pinned: why)".
    static func pin(_ cpu: Int) -> String {
        do throws(Errno) { try Pinning.pinCurrentThread(cpu: cpu); return "(pinned)" } catch {
            return "(not pinned: \(Detail.current))"
        }
    }
}
