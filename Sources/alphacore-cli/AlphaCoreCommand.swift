import AlphaCore
import ArgumentParser

@main
struct AlphaCoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alphacore",
        abstract: "Audit a host for latency readiness and run libalphacore's tools.",
        version: String(describing: Version.string)
    )
}
