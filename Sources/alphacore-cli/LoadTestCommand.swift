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
            thread with huge-page buffers (where the pool allows), in the profile --profile names. Each message carries its send \
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
    @Option(name: .long, help: "Reader profile: latency (return on the first message), throughput (batch: 64 messages or 20 us) or spin (never sleep while waiting).")
    var profile: LoadTestProfile = .latency
    @Option(name: .long, help: "With --profile spin: the spin budget of each poll in microseconds (1-1000000; default: the library's).")
    var spinUs: Int?
    @Option(name: .long, help: "CPU of the consumer thread (default: the last allowed CPU).") var consumerCPU: Int?
    @Option(name: .long, help: "CPU of the producer thread (default: the first allowed CPU).") var producerCPU: Int?
    @Option(name: .long, help: "Interval log file (\"\" for none).") var log = "loadtest.hlog"
    @Flag(name: .long, help: "Reader buffers on 4 KiB pages (default: huge pages where the pool allows).") var noHugePages = false
    @Option(name: .long, help: "Run producer and consumer at SCHED_FIFO with this priority (1-99; needs CAP_SYS_NICE).") var realtime: Int?
    @Option(name: .long, help: "Run producer and consumer at this nice value (-20-19).") var nice: Int?
    @Flag(name: .long, help: "No progress lines.") var quiet = false
    @Option(name: .long, help: "Serve live metrics for Prometheus at this address during the run (e.g. 127.0.0.1:9464; loopback only).") var metrics: String?

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
        if let s = spinUs {
            guard profile == .spin else { throw ValidationError("--spin-us goes with --profile spin") }
            guard (1...Int(ReaderProfile.maxSpinMicros)).contains(s) else { throw ValidationError("--spin-us must be 1-1000000") }
        }
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
        config.profile = profile
        config.spinMicros = UInt32(spinUs ?? 0)
        config.hugePages = !noHugePages
        config.logPath = log.isEmpty ? nil : log
        config.progress = !quiet
        config.metricsAddress = metrics
        config.realtime = realtime
        config.nice = nice
        let allowed = ((try? Topology.current.allowed) ?? CPUSet([0])).ids
        config.consumerCPU = consumerCPU ?? allowed.last
        config.producerCPU = producerCPU ?? (allowed.count > 1 ? allowed.first : allowed.last)
        let ok = try LoadTestRun(config).run()
        if !ok { throw ExitCode(1) }
    }
}

/// The reader profile the consumer runs (issue 12), as named on the command line.
enum LoadTestProfile: String, CaseIterable, ExpressibleByArgument {
    case latency, throughput, spin

    /// The reader's profile of the same name.
    var reader: ReaderProfile {
        switch self {
        case .latency: return .latency
        case .throughput: return .throughput
        case .spin: return .spin
        }
    }

    /// The reader options of this profile (spinMicros 0: the library's default budget).
    func apply(to o: inout ReaderOptions, spinMicros: UInt32) {
        o.profile = reader
        if self == .spin { o.spinMicros = spinMicros }
    }

    /// What each poll asks for: throughput batches (64 completions or 20 us), latency and spin
    /// return with the first completion (the latency profile makes the library count them so).
    var minComplete: Int { self == .throughput ? 64 : 1 }
    var minWaitNs: Int64 { self == .throughput ? 20_000 : 0 }
}
