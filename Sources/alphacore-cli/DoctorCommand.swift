import AlphaCore
import ArgumentParser
import Glibc

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this host against what a latency-critical engine needs (read-only).",
        discussion: """
            Reads /proc and /sys (below ALPHACORE_SYSROOT when set) and reports each check as ok, \
            info, warn, fail or unknown, with what it saw, what it expects, where it read it and \
            what to do. Exit status: 0 when no check fails, 1 when one does, 2 for bad arguments. \
            The JSON schema is in docs/doctor.md.
            """
    )

    @Option(name: .long, help: "The CPUs the engine's hot threads use, as a cpulist (e.g. 2-5).")
    var cpus: String?

    @Option(name: .long, help: "Huge pages the engine needs: SIZE:COUNT[@NODE], comma-separated (e.g. 2M:512@0,1G:2).")
    var hugepages: String?

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Flag(name: .long, help: "Also measure: jitter and the tick on each hot CPU, core-to-core latency (about a second).")
    var probe = false

    @Option(name: .long, help: "Jitter probe time per CPU in milliseconds.")
    var probeMs = 250

    @OptionGroup var network: DoctorNetworkOptions

    @Option(name: .long, help: "Also write the checks as Prometheus gauges to this file (atomically), for node_exporter's textfile collector.")
    var prom: String?

    @Option(name: .long, help: "Compare this host with a tuned profile (latency-performance, network-latency, cpu-partitioning, realtime, or any installed one) instead of the checks.")
    var tuned: String?

    func run() throws {
        var options = DoctorOptions(cpus: cpus, probe: probe, probeMilliseconds: probeMs)
        let report: DoctorReport
        do throws(Errno) {
            if let hugepages { options.hugepages = try HugePageNeed.parseList(hugepages) }
            try network.apply(to: &options)
            if let tuned {
                let t = try Doctor.compareTuned(tuned, options)
                return Output.write(json ? t.json() : t.table(width: Output.width))
            }
            report = try Doctor.run(options)
        } catch {
            Output.error("alphacore doctor: \(CommandFailure("bad arguments", error))")
            throw ExitCode(2)
        }
        Output.write(json ? report.json() : report.table(colour: Output.colour, width: Output.width))
        if let prom { try writeProm(report, to: prom) }
        if report.worst == .fail { throw ExitCode(1) }
    }

    /// --prom FILE: the checks as gauges (metrics engineer's part; see docs/metrics.md).
    func writeProm(_ report: DoctorReport, to path: String) throws {
        do throws(Errno) {
            try DoctorMetrics.writeAtomically(DoctorMetrics.text(report), to: path)
        } catch {
            Output.error("alphacore doctor: --prom \(path): \(CommandFailure("cannot write", error))")
            throw ExitCode(2)
        }
    }
}

/// What the engine's network side looks like: the reader profile, the NICs and the burst.
struct DoctorNetworkOptions: ParsableArguments {
    @Option(name: .long, help: "The reader profile the engine uses: throughput (or blocking), latency, spin.")
    var profile = "latency"

    @Option(name: .long, help: "A NIC the feed arrives on (repeatable; default: the default route's, and those --pid's sockets use).")
    var nic: [String] = []

    @Option(name: .long, help: "The engine's process id: the NICs its sockets use are checked too.")
    var pid: Int32?

    @Option(name: .long, help: "The largest burst one socket must absorb, in bytes (checks rmem_max and rmem_default).")
    var burstBytes: Int64?

    @Option(name: .long, help: "The CPUs chosen for the NICs' interrupts and softirq work (default: anywhere but the hot CPUs).")
    var nicCpus: String?

    func apply(to options: inout DoctorOptions) throws(Errno) {
        guard let p = DoctorReaderProfile.named(profile) else {
            throw Errno.fail(EINVAL, "--profile \(profile): expected throughput, blocking, latency or spin")
        }
        options.profile = p
        options.nics = nic
        options.pid = pid
        options.burstBytes = burstBytes
        options.nicCPUs = nicCpus
    }
}
