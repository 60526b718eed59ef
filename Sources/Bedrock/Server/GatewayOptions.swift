import GatewayCore
import Transport

/// What a service loop needs from configuration: the validated `server.*` section (where every
/// default is defined, once) and the clock it reads.
struct GatewayOptions: Sendable {
    /// `server.*` as loaded and validated.
    let server: GatewayConfig.Server
    /// `log.*`: what the access log writes.
    let log: GatewayConfig.Log
    /// `api.keys`: who may call REST with `Authorization: ApiKey`.
    let apiKeys: APIKeyRing
    /// Where the loops read the time (tests inject a `ManualClock`).
    var clock: any GatewayClock

    /// Options from validated configuration.
    init(_ config: GatewayConfig, clock: any GatewayClock = SystemClock()) {
        server = config.server
        log = config.log
        apiKeys = APIKeyRing(config.api.keys)
        self.clock = clock
    }

    var corsOrigins: [String] { server.corsOrigins }
    var publicDir: String { server.publicDir }
    var limits: SessionLimits { SessionLimits(server) }

    var serverSettings: LWSServerSettings {
        LWSServerSettings(
            host: server.host, port: server.port, tlsCertPath: server.tlsCert, tlsKeyPath: server.tlsKey,
            maxConnections: server.maxConnections + server.effectiveMaxUnauthenticated, useLibev: server.eventLibrary == .libev)
    }
}
