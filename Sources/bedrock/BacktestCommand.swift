import ArgumentParser

/// `bedrock backtest` (SPEC §2). Not built yet.
struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backtest", abstract: "Not available yet.")
    func run() throws { throw ValidationError("'backtest' is not available yet") }
}
