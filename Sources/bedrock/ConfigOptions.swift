import ArgumentParser

/// Options shared by every command that reads configuration (SPEC §2).
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "Configuration file (default: config/bedrock.json).")
    var configFile: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (embedded Redis, dev secret).")
    var dataDir: String?
}
