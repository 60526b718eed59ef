import ArgumentParser

/// `bedrock watch` (SPEC §2). Not built yet.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Not available yet.")
    func run() throws { throw ValidationError("'watch' is not available yet") }
}
