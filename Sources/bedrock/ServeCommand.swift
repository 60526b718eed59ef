import ArgumentParser

/// `bedrock serve` (SPEC §2). Not built yet.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Not available yet.")
    func run() throws { throw ValidationError("'serve' is not available yet") }
}
