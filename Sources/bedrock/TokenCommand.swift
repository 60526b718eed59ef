import ArgumentParser

/// `bedrock token` (SPEC §2). Not built yet.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Not available yet.")
    func run() throws { throw ValidationError("'token' is not available yet") }
}
