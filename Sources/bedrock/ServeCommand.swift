import ArgumentParser
import Bedrock
import Foundation

/// `bedrock serve`: runs the gateway (SPEC §2).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: HTTP, WebSocket and the Redis bridge on one port.")

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "Port to listen on (overrides server.port).")
    var port: Int?

    @Option(help: "Redis URL: embedded, redis://[:password@]host:port[/db] or unix:///path (overrides redis.url).")
    var redis: String?

    @Option(name: .customLong("public"), help: "Directory of the static dashboard (overrides server.public_dir).")
    var publicDir: String?

    func run() throws {
        var overrides: [(key: String, value: String, flag: String)] = []
        if let port { overrides.append(("server.port", String(port), "--port")) }
        if let redis { overrides.append(("redis.url", redis, "--redis")) }
        if let publicDir { overrides.append(("server.public_dir", publicDir, "--public")) }
        let config: GatewayConfig
        do {
            config = try GatewayConfig.load(
                .init(
                    configFile: configOptions.configFile, dataDir: configOptions.dataDir,
                    overrides: overrides))
        } catch {
            FileHandle.standardError.write(Data("bedrock serve: \(error)\n".utf8))
            throw ExitCode(1)
        }
        LogSetup.bootstrap(config.log)
        let registry = MetricsRegistry()
        registry.bootstrapMetricsSystem()
        do {
            try GatewayRuntime.run(config: config, registry: registry)
            LogSetup.flush()
        } catch {
            LogSetup.flush()
            FileHandle.standardError.write(Data("bedrock serve: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
