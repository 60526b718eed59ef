import ArgumentParser

/// The `bedrock` command line (SPEC §2). This file only lists the subcommands; each lives in its
/// own file and does argument parsing and wiring only.
@main
struct BedrockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bedrock",
        abstract: "Bedrock: a real-time gateway for AI-assisted crypto trading decisions.",
        subcommands: [
            ServeCommand.self, TokenCommand.self, WatchCommand.self,
            BacktestCommand.self, OptimizeCommand.self, ReplayCommand.self,
        ]
    )
}
