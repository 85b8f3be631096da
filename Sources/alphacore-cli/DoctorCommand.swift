import AlphaCore
import ArgumentParser

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

    func run() throws {
        var options = DoctorOptions(cpus: cpus, probe: probe, probeMilliseconds: probeMs)
        let report: DoctorReport
        do throws(Errno) {
            if let hugepages { options.hugepages = try HugePageNeed.parseList(hugepages) }
            report = try Doctor.run(options)
        } catch {
            Output.error("alphacore doctor: \(CommandFailure("bad arguments", error))")
            throw ExitCode(2)
        }
        Output.write(json ? report.json() : report.table(colour: Output.colour, width: Output.width))
        if report.worst == .fail { throw ExitCode(1) }
    }
}
