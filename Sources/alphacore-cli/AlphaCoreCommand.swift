import AlphaCore
import ArgumentParser
import Glibc

@main
struct AlphaCoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alphacore",
        abstract: "Audit a host for latency readiness and run libalphacore's tools.",
        version: String(describing: Version.string),
        subcommands: [DoctorCommand.self, TopologyCommand.self, HistCommand.self, LoadTestCommand.self]
    )
}

/// Output helpers shared by the subcommands.
enum Output {
    /// Writes text to stdout as is.
    static func write(_ s: String) { writeAll(1, s) }

    /// Writes a line to stderr.
    static func error(_ s: String) { writeAll(2, s + "\n") }

    /// Writes all of `s` to `fd` (again after EINTR); false if a write failed.
    @discardableResult
    static func writeAll(_ fd: Int32, _ s: String) -> Bool {
        do { try SystemCall.writeAll(fd, s) } catch { return false }
        return true
    }

    /// Whether stdout is a terminal that takes colour (NO_COLOR unset, TERM not dumb).
    static var colour: Bool {
        isatty(1) == 1 && getenv("NO_COLOR") == nil && getenv("TERM").map { String(cString: $0) } != "dumb"
    }

    /// The terminal's width, 100 when not a terminal.
    static var width: Int {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col >= 60 { return Int(ws.ws_col) }
        return 100
    }
}

/// An AlphaCore failure as the command reports it: the error text and the library's detail.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ what: String, _ e: Errno) {
        let detail = Detail.current
        description = "\(what): \(e.description)" + (detail.isEmpty ? "" : " (\(detail))")
    }
}
