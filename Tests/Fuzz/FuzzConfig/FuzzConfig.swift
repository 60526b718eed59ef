import JSONCodec

@testable import Bedrock

/// The input as a configuration: the bytes before the first NUL are the JSON file, the lines
/// after it `NAME=VALUE` environment variables (`BEDROCK_` is put in front of each name). They go
/// through what `GatewayConfig.load` does after reading the file — `RawConfig.merge(file:)`,
/// `merge(environment:)`, `GatewayConfig.build`, `JWTSecret.resolve` when it needs no file — so
/// nothing touches the file system. A load either refuses with a `ConfigError` naming a key, or
/// returns values inside their documented ranges.
func fuzzConfig(_ input: UnsafeRawBufferPointer) {
    let split = input.firstIndex(of: 0) ?? input.count
    let document = UnsafeRawBufferPointer(rebasing: input[..<split])
    var environment: [String: String] = [:]
    if split < input.count {
        for line in input[(split + 1)...].split(separator: UInt8(ascii: "\n")) {
            let text = String(decoding: line, as: UTF8.self)
            guard let eq = text.firstIndex(of: "=") else { continue }
            environment["BEDROCK_" + text[..<eq]] = String(text[text.index(after: eq)...])
        }
    }
    var raw = RawConfig()
    do {
        if !document.isEmpty {
            guard let object = try? JSONCodec.parse(document, rejectDuplicateKeys: false) else { return }
            try raw.merge(file: object, path: "fuzz.json")
        }
        try raw.merge(environment: environment)
        let config = try GatewayConfig.build(raw)
        checkRanges(config)
        let secret = try raw.optionalString("jwt.secret")
        if secret != nil || config.mode != .dev {  // dev mode without a secret reads or writes a file
            let (resolved, _) = try JWTSecret.resolve(
                configured: secret, source: raw.source(of: "jwt.secret"), mode: config.mode, dataDir: config.dataDir)
            guard resolved.utf8.count >= JWTSecret.minimumBytes else { fatalError("short secret accepted") }
        }
    } catch {
        guard !error.message.isEmpty, error.description.hasPrefix("config: ") else {
            fatalError("config error without a message: \(error)")
        }
    }
}

/// The ranges `docs/CONFIG.md` documents, for a configuration the loader accepted.
private func checkRanges(_ c: GatewayConfig) {
    let s = c.server
    func need(_ ok: Bool, _ what: String) { if !ok { fatalError("accepted out of range: \(what) in \(c)") } }
    need((0...65535).contains(s.port), "server.port")
    need(s.heartbeatIntervalS >= 0.05 && s.heartbeatTimeoutS > s.heartbeatIntervalS, "server.heartbeat_*")
    need(s.maxFrameBytes >= 128 && s.maxConnections >= 1, "server.max_*")
    need(s.rateLimitPerS >= 0.1 && s.rateLimitPerS.isFinite && s.rateLimitBurst >= 1, "server.rate_limit_*")
    need(s.authTimeoutS >= 0.05 && s.authTimeoutS.isFinite, "server.auth_timeout_s")
    need((s.tlsCert == nil) == (s.tlsKey == nil), "server.tls_*")
    need(s.corsOrigins.allSatisfy(GatewayConfig.isValidOrigin), "server.cors_origins")
    need(!c.dataDir.isEmpty && !s.host.isEmpty, "data_dir / server.host")
    need(!c.redis.prefix.contains(where: { $0 == " " || $0.isNewline }), "redis.prefix")
    need(c.redis.pubsubBridge.allSatisfy { !$0.key.isEmpty && Topic($0.value) != nil }, "redis.pubsub_bridge")
    if case let .tcp(host, port, _, db) = c.redis.endpoint {
        need(!host.isEmpty && (1...65535).contains(port) && db >= 0, "redis.url")
    }
    let l = c.ledger
    need(l.initialBalance >= 0.01 && l.commission >= 0 && l.riskPerTrade > 0 && l.maxDrawdown > 0, "ledger.*")
    need(l.maxOpenPositions >= 1 && l.dailyLossLimit > 0 && l.maxExposure > 0, "ledger.*")
    need(c.jobs.workers >= 1 && c.jobs.queueMax >= 1 && c.jobs.perUserMax >= 1, "jobs.*")
    need(c.engine.historyBars >= 10 && ["0", "$"].contains(c.engine.startFrom), "engine.*")
}
