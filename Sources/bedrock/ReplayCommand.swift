import ArgumentParser

/// `bedrock replay` (SPEC §2). Not built yet.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "Not available yet.")
    func run() throws { throw ValidationError("'replay' is not available yet") }
}
