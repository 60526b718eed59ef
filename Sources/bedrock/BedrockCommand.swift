import ArgumentParser
import Foundation

/// The `bedrock` command line (SPEC §2). This file only lists the subcommands; each lives in its
/// own file and does argument parsing and wiring only.
@main
struct BedrockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bedrock",
        abstract: "Bedrock: a real-time gateway for AI-assisted crypto trading decisions.",
        subcommands: [
            ServeCommand.self, TokenCommand.self, WatchCommand.self,
            BacktestCommand.self, OptimizeCommand.self, ReplayCommand.self, SampleDataCommand.self,
            BackfillCommand.self, FeaturesCommand.self, TrainCommand.self, PredictCommand.self, BackupCommand.self,
            RestoreCommand.self, APIKeyCommand.self,
        ]
    )

    /// Runs the command line. Usage errors print one line on stderr and exit 2 (SPEC §2);
    /// `--help` prints help and exits 0; other failures keep their exit code.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let line = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
                FileHandle.standardError.write(Data("bedrock: \(line)\n".utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
