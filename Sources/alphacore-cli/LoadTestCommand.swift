import AlphaCore
import ArgumentParser
import Glibc

struct LoadTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Simulate a market-data feed on loopback and measure the library's reader end to end.",
        discussion: """
            A producer thread writes batches of fixed-size messages at the target rate over N \
            loopback TCP (and UDP) connections; the consumer is the library's reader on a pinned \
            thread with huge-page buffers (where the pool allows). Each message carries its send \
            time and its scheduled time: latency from the scheduled time is corrected for \
            coordinated omission (a producer that falls behind cannot hide the delay). Prints a \
            line per second, the percentile table at the end, and writes an HdrHistogram interval \
            log (tags "corrected" and "raw"). Bounded in time and count; only 127.0.0.1.
            """
    )

    @Option(name: .long, help: "TCP feed connections (0-4096).") var connections = 256
    @Option(name: .long, help: "UDP feed connections (0-1024).") var udp = 0
    @Option(name: .long, help: "Target messages per second, all connections together.") var rate = 1_000_000.0
    @Option(name: .long, help: "Message size in bytes (32-4096).") var size = 64
    @Option(name: .long, help: "Messages per write (feeds batch them).") var batch = 16
    @Option(name: .long, help: "Seconds to run (0.1-3600).") var duration = 10.0
    @Option(name: .long, help: "Reader backend: auto, io_uring or epoll.") var backend = "auto"
    @Option(name: .long, help: "CPU of the consumer thread (default: the last allowed CPU).") var consumerCPU: Int?
    @Option(name: .long, help: "CPU of the producer thread (default: the first allowed CPU).") var producerCPU: Int?
    @Option(name: .long, help: "Interval log file (\"\" for none).") var log = "loadtest.hlog"
    @Flag(name: .long, help: "Reader buffers on 4 KiB pages (default: huge pages where the pool allows).") var noHugePages = false
    @Option(name: .long, help: "Run producer and consumer at SCHED_FIFO with this priority (1-99; needs CAP_SYS_NICE).") var realtime: Int?
    @Option(name: .long, help: "Run producer and consumer at this nice value (-20-19).") var nice: Int?
    @Flag(name: .long, help: "No progress lines.") var quiet = false

    func validate() throws {
        guard (0...4096).contains(connections), (0...1024).contains(udp), connections + udp > 0 else {
            throw ValidationError("--connections 0-4096 and --udp 0-1024, at least one in all")
        }
        guard rate >= 1, rate <= 50_000_000 else { throw ValidationError("--rate must be 1-50000000") }
        guard (FeedMessage.headerBytes...4096).contains(size) else { throw ValidationError("--size must be 32-4096") }
        guard batch >= 1, batch * size <= (udp > 0 ? 65_000 : 1 << 20) else {
            throw ValidationError("--batch must be at least 1 and batch * size at most 1 MiB (65000 bytes with UDP)")
        }
        guard duration >= 0.1, duration <= 3600 else { throw ValidationError("--duration must be 0.1-3600 seconds") }
        guard ["auto", "io_uring", "epoll"].contains(backend) else { throw ValidationError("--backend is auto, io_uring or epoll") }
        if let r = realtime, !(1...99).contains(r) { throw ValidationError("--realtime must be 1-99") }
        if let n = nice, !(-20...19).contains(n) { throw ValidationError("--nice must be -20-19") }
    }

    func run() throws {
        var config = LoadTestConfig()
        config.tcp = connections
        config.udp = udp
        config.rate = rate
        config.size = size
        config.batch = batch
        config.seconds = duration
        config.backend = backend == "io_uring" ? .ioURing : backend == "epoll" ? .epoll : .auto
        config.hugePages = !noHugePages
        config.logPath = log.isEmpty ? nil : log
        config.progress = !quiet
        config.realtime = realtime
        config.nice = nice
        let allowed = ((try? Topology.current.allowed) ?? CPUSet([0])).ids
        config.consumerCPU = consumerCPU ?? allowed.last
        config.producerCPU = producerCPU ?? (allowed.count > 1 ? allowed.first : allowed.last)
        let ok = try LoadTestRun(config).run()
        if !ok { throw ExitCode(1) }
    }
}

/// One run: sockets, threads, the reporting loop, the summary.
struct LoadTestRun {
    let config: LoadTestConfig
    init(_ c: LoadTestConfig) { config = c }

    static func fail(_ what: String, _ e: Errno) -> ExitCode {
        Output.error("alphacore loadtest: \(CommandFailure(what, e))")
        return ExitCode(1)
    }

    static func grouped(_ v: Int) -> String {
        let s = String(v)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    func run() throws -> Bool {
        let hist = try? Histogram.Config(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        guard let hist else { throw ExitCode(1) }
        let corrected: Recorder, raw: Recorder, interval: Histogram, intervalRaw: Histogram, total: Histogram, totalRaw: Histogram
        do throws(Errno) {
            corrected = try Recorder.create(hist)
            raw = try Recorder.create(hist)
            interval = try Histogram.create(hist)
            intervalRaw = try Histogram.create(hist)
            total = try Histogram.create(hist)
            totalRaw = try Histogram.create(hist)
        } catch { throw Self.fail("cannot create the recorders", error) }
        defer { corrected.destroy(); raw.destroy(); interval.destroy(); intervalRaw.destroy(); total.destroy(); totalRaw.destroy() }

        var pairs: [(Int32, Int32)] = []
        do throws(Errno) {
            pairs = try Loopback.tcpPairs(config.tcp)
            pairs += try Loopback.udpPairs(config.udp)
        } catch {
            for (a, b) in pairs { close(a); close(b) }
            throw Self.fail("cannot open \(config.tcp) TCP and \(config.udp) UDP loopback connections", error)
        }
        defer { for (a, b) in pairs { close(a); close(b) } }

        var logFD: Int32 = -1
        if let path = config.logPath {
            logFD = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if logFD < 0 { throw Self.fail("cannot write the interval log", Errno.fromErrno("open \(path)")) }
        }
        defer { if logFD >= 0 { close(logFD) } }
        func emit(_ bytes: [UInt8]) {
            guard logFD >= 0 else { return }
            bytes.withUnsafeBytes { b in var off = 0; while off < b.count { let n = write(logFD, b.baseAddress! + off, b.count - off); if n <= 0 { return }; off += n } }
        }

        let shared = LoadTestShared()
        // The consumer: pinned, then the reader on that thread.
        final class ConsumerBox: @unchecked Sendable { var consumer: FeedConsumer; var pin: String; init(_ c: FeedConsumer) { consumer = c; pin = "" } }
        let cbox = ConsumerBox(FeedConsumer(fds: pairs.map(\.1), config: config, shared: shared, corrected: corrected, raw: raw))
        let consumerCPU = config.consumerCPU
        guard let consumerThread = PThread.start({
            if let cpu = consumerCPU { cbox.pin = Self.pin(cpu) }
            cbox.pin += Self.schedule(config)
            cbox.consumer.run()
        }) else { throw Self.fail("cannot start the consumer thread", Errno(EAGAIN)) }
        while shared.get(.consumerReady) == 0 { usleep(1000) }
        if shared.get(.consumerReady) < 0 {
            pthread_join(consumerThread, nil)
            Output.error("alphacore loadtest: \(cbox.consumer.error ?? "the consumer failed")")
            throw ExitCode(1)
        }
        let d = cbox.consumer.details
        let backendName = d.backend == .ioURing ? "io_uring" : "epoll"
        let huge = d.flags.contains(.hugePages) ? "huge pages" : "4 KiB pages"
        Output.write("loadtest: \(config.tcp) TCP + \(config.udp) UDP loopback connections, \(Self.grouped(Int(config.rate))) msg/s target, \(config.size) B messages, \(config.batch) per write, \(config.seconds) s\n")
        Output.write("consumer: reader on \(backendName) (\(d.reason)), buffers on \(huge), CPU \(consumerCPU.map(String.init) ?? "any") \(cbox.pin)\n")

        // The producer.
        final class ProducerBox: @unchecked Sendable { var producer: FeedProducer; var pin = ""; init(_ p: FeedProducer) { producer = p } }
        let pbox = ProducerBox(FeedProducer(fds: pairs.map(\.0), config: config, shared: shared))
        let hz = Clock.cyclesPerSecond
        let start = Clock.cycles() &+ hz / 100
        let end = start &+ UInt64(Double(hz) * config.seconds)
        let producerCPU = config.producerCPU
        guard let producerThread = PThread.start({
            if let cpu = producerCPU { pbox.pin = Self.pin(cpu) }
            pbox.pin += Self.schedule(config)
            pbox.producer.run(startCycles: start, endCycles: end)
        }) else {
            shared.set(.stop, 1)
            pthread_join(consumerThread, nil)
            throw Self.fail("cannot start the producer thread", Errno(EAGAIN))
        }

        // Reporting: one line and one log interval per second (at the threads' priority, so
        // that a loaded machine does not starve the reports of a real-time run).
        if config.realtime != nil { _ = Self.schedule(config) }
        let startNs = Recorder.realtimeNs()
        emit(IntervalLog.header(startNs: startNs, baseNs: 0))
        try? corrected.sample(into: interval)   // start the intervals now
        try? raw.sample(into: intervalRaw)
        var lastReceived = 0
        var second = 0
        var lastT = Clock.nowNanoseconds()
        func report(final: Bool) {
            try? corrected.sample(into: interval)
            try? raw.sample(into: intervalRaw)
            let now = Clock.nowNanoseconds()
            let got = shared.get(.received)
            let secs = Double(now &- lastT) / 1e9
            let rate = secs > 0 ? Int(Double(got - lastReceived) / secs) : 0
            lastReceived = got
            lastT = now
            _ = try? total.add(interval)
            _ = try? totalRaw.add(intervalRaw)
            if let line = try? IntervalLog.line(interval, tag: "corrected", baseNs: startNs, maxValueDivisor: 1e6) { emit(line) }
            if let line = try? IntervalLog.line(intervalRaw, tag: "raw", baseNs: startNs, maxValueDivisor: 1e6) { emit(line) }
            guard config.progress, !(final && interval.totalCount == 0) else { return }
            second += 1
            let p = { (q: Double) in DoctorFormat.nanos(interval.value(atPercentile: q)) }
            Output.write("[\(final ? "end" : String(second) + " s")] \(Self.grouped(rate)) msg/s  p50 \(p(50))  p99 \(p(99))  p99.9 \(p(99.9))  max \(DoctorFormat.nanos(interval.maxValue))  (raw max \(DoctorFormat.nanos(intervalRaw.maxValue)))\n")
        }
        while Clock.cycles() < end && shared.get(.producerDone) == 0 {
            let next = lastT + 1_000_000_000
            while Clock.nowNanoseconds() < next && shared.get(.producerDone) == 0 { usleep(10_000) }
            if shared.get(.producerDone) != 0 { break }
            report(final: false)
        }
        pthread_join(producerThread, nil)
        shared.set(.stop, 1)
        pthread_join(consumerThread, nil)
        report(final: true)

        // Summary.
        let sent = shared.get(.sent), received = shared.get(.received)
        let lost = shared.get(.lost), corrupt = shared.get(.corrupt)
        Output.write("\nLatency from the scheduled send time (corrected for coordinated omission), microseconds:\n")
        Output.write(String(decoding: total.percentileDistribution(ticksPerHalfDistance: 5, valueScale: 1000), as: UTF8.self))
        Output.write("\nsummary: sent \(Self.grouped(sent)), received \(Self.grouped(received)), lost \(lost), corrupt \(corrupt), errors \(shared.get(.errors) + pbox.producer.writeErrors)\n")
        let span = Double(Clock.nanoseconds(fromCycles: max(cbox.consumer.lastArrival, start) &- start)) / 1e9
        Output.write("achieved: \(Self.grouped(Int(Double(received) / max(span, 1e-9)))) msg/s over \(Double(Int(span * 1000)) / 1000) s (first send to last arrival); producer on CPU \(producerCPU.map(String.init) ?? "any") \(pbox.pin), behind schedule by at most \(DoctorFormat.nanos(Int64(Clock.nanoseconds(fromCycles: pbox.producer.maxLagCycles))))\n")
        Output.write("corrected: p50 \(DoctorFormat.nanos(total.value(atPercentile: 50))), p99 \(DoctorFormat.nanos(total.value(atPercentile: 99))), p99.9 \(DoctorFormat.nanos(total.value(atPercentile: 99.9))), max \(DoctorFormat.nanos(total.maxValue))\n")
        Output.write("raw:       p50 \(DoctorFormat.nanos(totalRaw.value(atPercentile: 50))), p99 \(DoctorFormat.nanos(totalRaw.value(atPercentile: 99))), p99.9 \(DoctorFormat.nanos(totalRaw.value(atPercentile: 99.9))), max \(DoctorFormat.nanos(totalRaw.maxValue))\n")
        if let c = cbox.consumer.counters {
            let perMsg = received > 0 ? Double(c.syscalls) / Double(received) : 0
            Output.write("reader: \(backendName), \(c.polls) polls, \(c.syscalls) system calls (\(Double(Int(perMsg * 100000)) / 100000) per message), \(c.completions) completions, \(c.enobufs) ENOBUFS, \(c.overflows) overflows\n")
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
