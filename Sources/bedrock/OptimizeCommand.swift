import ArgumentParser

/// `bedrock optimize` (SPEC §2). Not built yet.
struct OptimizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optimize", abstract: "Not available yet.")
    func run() throws { throw ValidationError("'optimize' is not available yet") }
}
