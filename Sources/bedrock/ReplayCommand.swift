import ArgumentParser
import Foundation

/// `bedrock replay` (SPEC §2) publishes bars to the market-data stream. It arrives with the live
/// pipeline; until then it says so and exits 1 rather than pretending to work.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Publish bars to the market-data stream (arrives with the live pipeline).")

    func run() throws {
        FileHandle.standardError.write(Data("bedrock replay: not available in this build yet (it arrives with the live pipeline)\n".utf8))
        throw ExitCode(1)
    }
}
