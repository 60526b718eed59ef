import Foundation
import RedisClient
import XCTest

@testable import Bedrock

final class ConfigTests: XCTestCase {
    private var dir = ""
    private let secret = "0123456789abcdef-config-test-secret"

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "bedrock-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Writes `json` to a file in the temp dir and returns its path.
    private func file(_ json: String, name: String = "c.json") throws -> String {
        let p = dir + "/" + name
        try json.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    private func load(
        _ json: String? = nil, env: [String: String] = [:], dataDir: String? = nil,
        overrides: [(key: String, value: String, flag: String)] = []
    ) throws -> GatewayConfig {
        let path = try json.map { try file($0) }
        return try GatewayConfig.load(
            .init(
                configFile: path, dataDir: dataDir ?? dir + "/data",
                overrides: overrides, environment: env))
    }

    /// The one-line message a user would see for this configuration.
    private func errorLine(_ json: String? = nil, env: [String: String] = [:]) -> String? {
        do { _ = try load(json, env: env); return nil } catch { return "\(error)" }
    }

    private var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    func testNoDefaultFileMeansBuiltInDefaultsInProductionMode() throws {
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        let c = try GatewayConfig.load(.init(environment: ["BEDROCK_JWT_SECRET": secret]))
        XCTAssertNil(c.sourceFile)
        XCTAssertEqual(c.mode, .production)
        XCTAssertEqual(c.dataDir, ".bedrock")
        XCTAssertEqual(c.server.host, "127.0.0.1")
        XCTAssertEqual(c.server.port, 8080)
        XCTAssertEqual(c.server.publicDir, "public")
        XCTAssertEqual(c.server.heartbeatIntervalS, 30)
        XCTAssertEqual(c.server.heartbeatTimeoutS, 90)
        XCTAssertEqual(c.server.drainTimeoutS, 10)
        XCTAssertEqual(c.server.maxFrameBytes, 65536)
        XCTAssertEqual(c.server.maxConnections, 20000)
        XCTAssertEqual(c.server.maxUnauthenticated, 0)
        XCTAssertEqual(c.server.effectiveMaxUnauthenticated, 1024)
        XCTAssertEqual(c.server.maxConnectionsPerIP, 256)
        XCTAssertEqual(c.server.perIPExempt, ["127.0.0.1", "::1"])
        XCTAssertEqual(c.server.maxSubscriptionsPerConnection, 200)
        XCTAssertEqual(c.server.maxConnectionsPerUser, 100)
        XCTAssertEqual(c.presence.ttlS, 15)
        XCTAssertEqual(c.server.corsOrigins, [])
        XCTAssertEqual(c.server.rateLimitPerS, 50)
        XCTAssertEqual(c.server.sendQueueMax, 1024)
        XCTAssertEqual(c.server.authTimeoutS, 5)
        XCTAssertFalse(c.server.tlsEnabled)
        XCTAssertEqual(c.redis.endpoint, .embedded)
        XCTAssertEqual(c.redis.prefix, "bedrock:")
        XCTAssertEqual(c.redis.streamMaxlen, 10000)
        XCTAssertEqual(c.redis.replayMax, 10000)
        XCTAssertEqual(c.redis.pubsubBridge, [:])
        XCTAssertEqual(c.jwt.secret, secret)
        XCTAssertEqual(c.jwt.secretOrigin, .configured)
        XCTAssertNil(c.jwt.issuer)
        XCTAssertNil(c.jwt.audience)
        XCTAssertEqual(c.log.level, .info)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/.bedrock"), "production never writes a secret")
    }

    func testProductionWithoutSecretRefused() {
        let line = errorLine(#"{"mode":"production"}"#)
        XCTAssertEqual(
            line, "config: jwt.secret: required in production mode: set BEDROCK_JWT_SECRET or jwt.secret (at least 32 bytes)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/data/jwt.secret"))
    }

    func testShortSecretRefused() {
        XCTAssertEqual(
            errorLine(#"{"mode":"production"}"#, env: ["BEDROCK_JWT_SECRET": "short"]),
            "config: jwt.secret: must be at least 32 bytes, got 5 (from BEDROCK_JWT_SECRET)")
        XCTAssertEqual(
            errorLine(#"{"mode":"dev","jwt":{"secret":"0123456789"}}"#)?.hasPrefix(
                "config: jwt.secret: must be at least 32 bytes, got 10 (from "), true)
    }

    func testWeakSecretRefusedInProduction() {
        let spaces = String(repeating: " ", count: 32)
        XCTAssertEqual(
            errorLine(#"{"mode":"production"}"#, env: ["BEDROCK_JWT_SECRET": spaces]),
            "config: jwt.secret: is only whitespace; use a random secret (e.g. `openssl rand -hex 32`) (from BEDROCK_JWT_SECRET)")
        XCTAssertEqual(
            errorLine(#"{"mode":"production"}"#, env: ["BEDROCK_JWT_SECRET": String(repeating: "ab", count: 20)]),
            "config: jwt.secret: is too weak: 2 different byte value(s), at least 8 needed in production; use a random secret (e.g. `openssl rand -hex 32`) (from BEDROCK_JWT_SECRET)"
        )
        XCTAssertEqual(
            errorLine(#"{"mode":"production","jwt":{"secret":"\t \t \t \t \t \t \t \t \t \t \t \t \t \t \t \t "}}"#)?
                .hasPrefix("config: jwt.secret: is only whitespace"), true)
        XCTAssertNil(errorLine(#"{"mode":"production"}"#, env: ["BEDROCK_JWT_SECRET": "0123456789abcdef0123456789abcdef"]))
        XCTAssertNil(errorLine(#"{"mode":"dev"}"#, env: ["BEDROCK_JWT_SECRET": spaces]), "dev mode keeps the length rule only")
    }

    func testExplicitMissingFileRefused() {
        do {
            _ = try GatewayConfig.load(.init(configFile: dir + "/nope.json", environment: [:]))
            XCTFail("missing file accepted")
        } catch {
            XCTAssertEqual(error.description, "config: no such file \(dir)/nope.json")
        }
    }

    func testMalformedFileRefused() {
        XCTAssertEqual(errorLine("{\"mode\": "), "config: \(dir)/c.json is not valid JSON")
        XCTAssertEqual(errorLine("[1,2]"), "config: the file must hold a JSON object (from \(dir)/c.json)")
    }

    func testShippedDevConfigHasEveryKeyWithDefaults() throws {
        let path = repoRoot + "/config/bedrock.json"
        let c = try GatewayConfig.load(.init(configFile: path, dataDir: dir + "/data", environment: [:]))
        XCTAssertEqual(c.mode, .dev)
        var expected = GatewayConfig()
        expected.mode = .dev
        expected.dataDir = dir + "/data"
        expected.sourceFile = path
        expected.jwt.secret = c.jwt.secret
        expected.jwt.secretOrigin = c.jwt.secretOrigin
        XCTAssertEqual(c, expected)
        // Every known key is spelled out in the shipped file.
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        for key in RawConfig.allKeys where !RawConfig.deprecatedKeys.contains(key) {
            // `exchanges.binance.rest_url` is nested one level deeper.
            let parts = key.split(separator: ".").map(String.init)
            var node: Any? = obj
            for part in parts { node = (node as? [String: Any])?[part] }
            let present = node != nil
            XCTAssertTrue(present, "config/bedrock.json lacks \(key)")
        }
    }

    func testDeprecatedTopicLimitIsAnAliasOfTheSubscriptionLimit() throws {
        XCTAssertEqual(
            try load(#"{"mode":"dev","server":{"max_topics_per_connection":7}}"#).server.maxSubscriptionsPerConnection, 7)
        let both = #"{"mode":"dev","server":{"max_topics_per_connection":7,"max_subscriptions_per_connection":9}}"#
        XCTAssertEqual(try load(both).server.maxSubscriptionsPerConnection, 9, "the new key wins")
    }

    func testProductionExampleLoadsWithSecretFromEnvironment() throws {
        let path = repoRoot + "/config/production.example.json"
        let c = try GatewayConfig.load(
            .init(
                configFile: path,
                environment: [
                    "BEDROCK_JWT_SECRET": secret, "BEDROCK_SERVER_TLS_CERT": "", "BEDROCK_SERVER_TLS_KEY": "",
                ]))
        XCTAssertEqual(c.mode, .production)
        XCTAssertEqual(c.redis.endpoint, .tcp(host: "redis.internal", port: 6379, password: nil, db: 0))
        XCTAssertEqual(c.redis.pubsubBridge, ["dfp:opportunities:ws": "opportunities"])
        XCTAssertEqual(c.jwt.audience, "bedrock")
        XCTAssertEqual(c.server.maxSubscriptionsPerConnection, 200)
        XCTAssertEqual(c.api.keys.map(\.name), ["signals-backend"])
        XCTAssertEqual(c.notifications.webhooks.count, 1)
        XCTAssertEqual(c.redis.minReplicasToAck, 1)
        // As shipped, its example certificate paths do not exist here and are refused by name.
        XCTAssertThrowsError(try GatewayConfig.load(.init(configFile: path, environment: ["BEDROCK_JWT_SECRET": secret]))) {
            XCTAssertEqual(($0 as? ConfigError)?.key, "server.tls_cert")
        }
    }

    func testEachBadValueNamesItsKey() {
        let cases: [(json: String?, env: [String: String], expected: String)] = [
            (
                nil, ["BEDROCK_SERVER_PORT": "abc"],
                #"config: server.port: must be an integer 0-65535, got "abc" (from BEDROCK_SERVER_PORT)"#
            ),
            (
                #"{"server":{"port":70000}}"#, [:],
                "config: server.port: must be an integer 0-65535, got 70000 (from \(dir)/c.json)"
            ),
            (#"{"server":{"port":true}}"#, [:], "config: server.port: must be an integer 0-65535, got true (from \(dir)/c.json)"),
            (
                #"{"server":{"port":"8080"}}"#, [:],
                "config: server.port: must be an integer 0-65535, got \"8080\" (from \(dir)/c.json)"
            ),
            (#"{"server":{"port":80.5}}"#, [:], "config: server.port: must be an integer 0-65535, got 80.5 (from \(dir)/c.json)"),
            (#"{"mode":"staging"}"#, [:], "config: mode: must be one of dev, production, got \"staging\" (from \(dir)/c.json)"),
            (
                nil, ["BEDROCK_SERVER_METRICS_TOKEN": "short-secret"],
                "config: server.metrics_token: must be at least 16 visible ASCII characters with no spaces (12 given) (from BEDROCK_SERVER_METRICS_TOKEN)"
            ),
            (
                #"{"server":{"metrics_token":"a metrics token with spaces"}}"#, [:],
                "config: server.metrics_token: must be at least 16 visible ASCII characters with no spaces (27 given) (from \(dir)/c.json)"
            ),
            (nil, ["BEDROCK_MODE": "prod"], "config: mode: must be one of dev, production, got \"prod\" (from BEDROCK_MODE)"),
            (
                nil, ["BEDROCK_SERVER_DRAIN_TIMEOUT_S": "-1"],
                "config: server.drain_timeout_s: must be a number 0-3600, got \"-1\" (from BEDROCK_SERVER_DRAIN_TIMEOUT_S)"
            ),
            (
                #"{"server":{"heartbeat_interval_s":30,"heartbeat_timeout_s":30}}"#, [:],
                "config: server.heartbeat_timeout_s: must exceed server.heartbeat_interval_s (30), got 30 (from \(dir)/c.json)"
            ),
            (
                nil, ["BEDROCK_SERVER_HEARTBEAT_INTERVAL_S": "-1"],
                "config: server.heartbeat_interval_s: must be a number 0.05-86400, got \"-1\" (from BEDROCK_SERVER_HEARTBEAT_INTERVAL_S)"
            ),
            (
                nil, ["BEDROCK_REDIS_URL": "http://x"],
                #"config: redis.url: must be "embedded", redis://[:password@]host:port[/db], unix:///path or redis-sentinel://host:port[,host:port...]/MASTER (from BEDROCK_REDIS_URL)"#
            ),
            (
                nil, ["BEDROCK_REDIS_URL": "redis://host:99999"],
                "config: redis.url: port must be an integer 1-65535 (from BEDROCK_REDIS_URL)"
            ),
            (
                #"{"log":{"level":"loud"}}"#, [:],
                "config: log.level: must be one of trace, debug, info, notice, warning, error, critical, got \"loud\" (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"max_frame_bytes":0}}"#, [:],
                "config: server.max_frame_bytes: must be an integer 128-67108864, got 0 (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"max_connections":-5}}"#, [:],
                "config: server.max_connections: must be an integer 1-1000000, got -5 (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"max_topics_per_connection":0}}"#, [:],
                "config: server.max_topics_per_connection: must be an integer 1-1000000, got 0 (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"max_subscriptions_per_connection":0}}"#, [:],
                "config: server.max_subscriptions_per_connection: must be an integer 1-1000000, got 0 (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"max_connections_per_user":0}}"#, [:],
                "config: server.max_connections_per_user: must be an integer 1-1000000, got 0 (from \(dir)/c.json)"
            ),
            (
                #"{"presence":{"ttl_s":0}}"#, [:],
                "config: presence.ttl_s: must be a number 1-3600, got 0 (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"per_ip_exempt":[1]}}"#, [:],
                "config: server.per_ip_exempt: must be an array of strings, got an array (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"send_queue_max":"lots"}}"#, [:],
                "config: server.send_queue_max: must be an integer 1-1000000, got \"lots\" (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"service_threads":-1}}"#, [:],
                "config: server.service_threads: must be an integer 0-64, got -1 (from \(dir)/c.json)"
            ),
            (
                nil, ["BEDROCK_SERVER_SERVICE_THREADS": "65"],
                #"config: server.service_threads: must be an integer 0-64, got "65" (from BEDROCK_SERVER_SERVICE_THREADS)"#
            ),
            (
                nil, ["BEDROCK_SERVER_EVENT_LIBRARY": "epoll"],
                #"config: server.event_library: must be one of libev, poll, got "epoll" (from BEDROCK_SERVER_EVENT_LIBRARY)"#
            ),
            (
                #"{"server":{"api_workers":0}}"#, [:],
                "config: server.api_workers: must be an integer 1-256, got 0 (from \(dir)/c.json)"
            ),
            (
                #"{"redis":{"stream_maxlen":0}}"#, [:],
                "config: redis.stream_maxlen: must be an integer 1-1000000000, got 0 (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"cors_origins":["example.com"]}}"#, [:],
                "config: server.cors_origins: each origin must be * or scheme://host[:port] (http or https), got \"example.com\" (from \(dir)/c.json)"
            ),
            (#"{"server":{"cors_origins":"https://a.example"}}"#, [:], ""),  // a plain string is a one-item list: accepted
            (
                #"{"redis":{"pubsub_bridge":{"chan":"nope"}}}"#, [:],
                "config: redis.pubsub_bridge: channel \"chan\" must map to a valid topic, got \"nope\" (from \(dir)/c.json)"
            ),
            (
                #"{"redis":{"pubsub_bridge":["x"]}}"#, [:],
                "config: redis.pubsub_bridge: must be an object of strings, got an array (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"tls_cert":"/etc/hostname"}}"#, [:],
                "config: server.tls_key: must be set when server.tls_cert is set (from \(dir)/c.json)"
            ),
            (
                #"{"server":{"tls_cert":"/nonexistent/cert.pem","tls_key":"/nonexistent/key.pem"}}"#, [:],
                "config: server.tls_cert: no readable file \"/nonexistent/cert.pem\" (from \(dir)/c.json)"
            ),
            (#"{"server":"x"}"#, [:], "config: server: must be an object, got \"x\" (from \(dir)/c.json)"),
            (#"{"server":{"host":""}}"#, [:], "config: server.host: must be a non-empty string, got \"\" (from \(dir)/c.json)"),
        ]
        for c in cases {
            var env = c.env
            env["BEDROCK_JWT_SECRET"] = secret
            let line = errorLine(c.json, env: env)
            if c.expected.isEmpty { XCTAssertNil(line, c.json ?? "") } else { XCTAssertEqual(line, c.expected) }
        }
    }

    func testUnknownKeysRefused() {
        XCTAssertEqual(
            errorLine(#"{"mode":"dev","server":{"prot":1}}"#)?.hasPrefix(
                "config: server.prot: unknown key (known: api_workers, auth_timeout_s, cors_origins,"), true)
        XCTAssertEqual(
            errorLine(#"{"mode":"dev","servr":{}}"#)?.hasPrefix(
                "config: servr: unknown key (known: data_dir, mode, api, arbiter, circuit, engine, exchanges, jobs, jwt, ledger, llm, log, market_data, notifications, presence, redis, server)"
            ), true)
        XCTAssertEqual(
            errorLine(#"{"mode":"dev"}"#, env: ["BEDROCK_SERVER_PROT": "1"]),
            "config: unknown configuration variable BEDROCK_SERVER_PROT (from BEDROCK_SERVER_PROT)")
        // BEDROCK_* names outside the config sections are not configuration and are ignored.
        XCTAssertNil(errorLine(#"{"mode":"dev"}"#, env: ["BEDROCK_TEST_REDIS": "x"]))
    }

    func testPrecedenceDefaultsFileEnvironmentFlags() throws {
        let json = #"{"mode":"dev","data_dir":"/from/file","server":{"port":9000,"host":"0.0.0.0"},"redis":{"prefix":"f:"}}"#
        let env = [
            "BEDROCK_SERVER_PORT": "9100", "BEDROCK_DATA_DIR": dir + "/env", "BEDROCK_JWT_SECRET": secret,
            "BEDROCK_SERVER_CORS_ORIGINS": "https://a.example, http://b.example:8080",
            "BEDROCK_REDIS_PUBSUB_BRIDGE": "dfp:opps=opportunities,x=klines:btc-usdt:1m",
            "BEDROCK_REDIS_URL": "redis://:p%40ss@10.0.0.5:6380/2",
            "BEDROCK_SERVER_EVENT_LIBRARY": "poll", "BEDROCK_SERVER_API_WORKERS": "4",
            "BEDROCK_SERVER_PER_IP_EXEMPT": "10.0.0.1, ::1", "BEDROCK_SERVER_MAX_UNAUTHENTICATED": "64",
        ]
        let path = try file(json)
        var c = try GatewayConfig.load(.init(configFile: path, environment: env))
        XCTAssertEqual(c.server.port, 9100, "environment beats file")
        XCTAssertEqual(c.server.host, "0.0.0.0", "file beats default")
        XCTAssertEqual(c.dataDir, dir + "/env")
        XCTAssertEqual(c.redis.prefix, "f:")
        XCTAssertEqual(c.server.corsOrigins, ["https://a.example", "http://b.example:8080"])
        XCTAssertEqual(c.redis.pubsubBridge, ["dfp:opps": "opportunities", "x": "klines:BTCUSDT:1m"], "topics held canonical")
        XCTAssertEqual(c.redis.endpoint, .tcp(host: "10.0.0.5", port: 6380, password: "p@ss", db: 2))
        XCTAssertEqual(c.server.eventLibrary, .poll)
        XCTAssertEqual(c.server.apiWorkers, 4)
        XCTAssertEqual(c.server.perIPExempt, ["10.0.0.1", "::1"])
        XCTAssertEqual(c.server.effectiveMaxUnauthenticated, 64)
        c = try GatewayConfig.load(
            .init(
                configFile: path, dataDir: dir + "/flag",
                overrides: [("server.port", "9200", "--port")], environment: env))
        XCTAssertEqual(c.server.port, 9200, "flag beats environment")
        XCTAssertEqual(c.dataDir, dir + "/flag")
        XCTAssertThrowsError(
            try GatewayConfig.load(
                .init(
                    configFile: path, overrides: [("server.port", "x", "--port")],
                    environment: env))
        ) {
            XCTAssertEqual("\($0)", #"config: server.port: must be an integer 0-65535, got "x" (from --port)"#)
        }
    }

    func testDevSecretCreatedPrivatelyAndReused() throws {
        let data = dir + "/nested/data"
        let first = try load(#"{"mode":"dev"}"#, dataDir: data)
        let path = data + "/jwt.secret"
        XCTAssertEqual(first.jwt.secretOrigin, .devFileCreated(path))
        XCTAssertEqual(first.jwt.secret.count, 96)
        XCTAssertTrue(first.jwt.secret.allSatisfy { $0.isHexDigit })
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let second = try load(#"{"mode":"dev"}"#, dataDir: data)
        XCTAssertEqual(second.jwt.secret, first.jwt.secret)
        XCTAssertEqual(second.jwt.secretOrigin, .devFile(path))
        let other = try load(#"{"mode":"dev"}"#, dataDir: dir + "/other")
        XCTAssertNotEqual(other.jwt.secret, first.jwt.secret, "each data directory has its own secret")
        // A configured secret wins over the dev file.
        let configured = try load(#"{"mode":"dev"}"#, env: ["BEDROCK_JWT_SECRET": secret], dataDir: data)
        XCTAssertEqual(configured.jwt.secret, secret)
        // A truncated dev secret file is refused, not silently used.
        try "abc\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try load(#"{"mode":"dev"}"#, dataDir: data)) {
            XCTAssertTrue("\($0)".contains("holds fewer than 32 bytes"), "\($0)")
        }
    }

    func testRedisURLForms() {
        let ok: [(String, RedisEndpoint)] = [
            ("embedded", .embedded),
            ("redis://localhost:6379", .tcp(host: "localhost", port: 6379, password: nil, db: 0)),
            ("redis://localhost", .tcp(host: "localhost", port: 6379, password: nil, db: 0)),
            ("redis://:secret@127.0.0.1:7000/3", .tcp(host: "127.0.0.1", port: 7000, password: "secret", db: 3)),
            ("redis://default:pw@h:1/", .tcp(host: "h", port: 1, password: "pw", db: 0)),
            ("redis://[::1]:6390/1", .tcp(host: "::1", port: 6390, password: nil, db: 1)),
            ("unix:///tmp/r.sock", .unix(path: "/tmp/r.sock", password: nil, db: 0)),
            ("unix:///tmp/r.sock?db=4&password=x%20y", .unix(path: "/tmp/r.sock", password: "x y", db: 4)),
        ]
        for (s, e) in ok { XCTAssertEqual(try? RedisEndpoint.parse(s).get(), e, s) }
        let bad = [
            "", "Embedded", "rediss://h:1", "redis://", "redis://h:0", "redis://h:x", "redis://h:1/-1",
            "redis://h:1/x", "redis://user:pw@h", "redis://pw@h", "unix://relative.sock", "unix:///",
            "unix:///s?db=x", "unix:///s?foo=1", "redis://:%zz@h", "tcp://h:1",
        ]
        for s in bad { XCTAssertNil(try? RedisEndpoint.parse(s).get(), s) }
        XCTAssertEqual(
            "\(RedisEndpoint.tcp(host: "h", port: 1, password: "pw", db: 0))", "redis://:***@h:1/0",
            "passwords never printed")
    }

    func testRedisSentinelURLForms() {
        let a = SentinelService.Node(host: "10.0.0.1", port: 26379)
        let b = SentinelService.Node(host: "s2", port: 26380)
        let v6 = SentinelService.Node(host: "::1", port: 5000)
        let ok: [(String, RedisEndpoint)] = [
            (
                "redis-sentinel://10.0.0.1:26379/mymaster",
                .sentinel(sentinels: [a], master: "mymaster", password: nil, sentinelPassword: nil, db: 0)
            ),
            (
                "redis-sentinel://10.0.0.1,s2:26380,[::1]:5000/m?db=2&password=p%40ss&sentinel_password=s",
                .sentinel(sentinels: [a, b, v6], master: "m", password: "p@ss", sentinelPassword: "s", db: 2)
            ),
        ]
        for (s, e) in ok { XCTAssertEqual(try? RedisEndpoint.parse(s).get(), e, s) }
        let bad: [(String, String)] = [
            ("redis-sentinel://h:1", "master name is missing"),
            ("redis-sentinel://h:1/", "bad master name"),
            ("redis-sentinel:///m", "missing or bad host"),
            ("redis-sentinel://h:1,,h:2/m", "missing or bad host"),
            ("redis-sentinel://h:0/m", "port must be"),
            ("redis-sentinel://h:1/m?db=x", "database"),
            ("redis-sentinel://h:1/m?sentinel_password=", "sentinel_password"),
            ("redis-sentinel://h:1/m?user=x", "unknown query parameter"),
            ("unix:///s?sentinel_password=x", "unknown query parameter"),
        ]
        for (s, why) in bad {
            guard case .failure(let error) = RedisEndpoint.parse(s) else {
                XCTFail("\(s) was accepted")
                continue
            }
            XCTAssertTrue(error.message.contains(why), "\(s): \(error.message)")
        }
        let shown = "\(RedisEndpoint.sentinel(sentinels: [a], master: "m", password: "pw", sentinelPassword: "sp", db: 1))"
        XCTAssertEqual(shown, "redis-sentinel://10.0.0.1:26379/m?db=1&password=***&sentinel_password=***")
    }

    func testASentinelURLNeverShowsItsPassword() throws {
        let urls = [
            "redis-sentinel://:s3cret@h1:26379,h2:26379/mymaster",
            "redis-sentinel://user:s3cret@h1/mymaster",
            "redis-sentinel://h1:26379,:s3cret@h2:26379/mymaster",
            "redis-sentinel://h1,[s3cret]/m", "redis-sentinel://h1,h/s3cret/m",
            "redis-sentinel://h1/m?s3cret", "redis-sentinel://h1/m?s3cret=1", "redis-sentinel://h1/s3cret@m",
        ]
        for url in urls {
            switch RedisEndpoint.parse(url) {
            case .success(let endpoint):
                XCTAssertFalse("\(endpoint)".contains("s3cret"), "\(url) → \(endpoint)")
            case .failure(let error):
                XCTAssertFalse(error.message.contains("s3cret"), "\(url) → \(error.message)")
            }
            XCTAssertThrowsError(try load(#"{"mode":"dev","redis":{"url":"\#(url)"}}"#), url) {
                XCTAssertFalse("\($0)".contains("s3cret"), "\(url) → \($0)")
                XCTAssertTrue("\($0)".contains("redis.url"), "\($0)")
            }
        }
        guard case .failure(let userinfo) = RedisEndpoint.parse(urls[0]) else { return XCTFail("accepted") }
        XCTAssertTrue(userinfo.message.contains("?password="), userinfo.message)
        guard case .failure(let third) = RedisEndpoint.parse("redis-sentinel://a,b,c:x/m") else { return XCTFail("accepted") }
        XCTAssertEqual(third.message, "sentinel #3: port must be an integer 1-65535")
    }

    func testRedisSentinelURLRefusedNamingTheKey() throws {
        XCTAssertThrowsError(try load(#"{"mode":"dev","redis":{"url":"redis-sentinel://h:1"}}"#)) {
            XCTAssertTrue("\($0)".contains("redis.url"), "\($0)")
        }
        let c = try load(
            #"{"mode":"dev","redis":{"url":"redis-sentinel://h:1/m","min_replicas_to_ack":1,"replica_ack_timeout_ms":250}}"#
        )
        XCTAssertEqual(c.redis.minReplicasToAck, 1)
        XCTAssertEqual(c.redis.replicaAckTimeoutMs, 250)
        XCTAssertThrowsError(try load(#"{"mode":"dev","redis":{"min_replicas_to_ack":-1}}"#)) {
            XCTAssertTrue("\($0)".contains("redis.min_replicas_to_ack"), "\($0)")
        }
        XCTAssertThrowsError(try load(#"{"mode":"dev","redis":{"url":"embedded","min_replicas_to_ack":1}}"#)) {
            XCTAssertTrue("\($0)".contains("redis.min_replicas_to_ack: must be 0 with redis.url=embedded"), "\($0)")
        }
        let slowWait = #"{"mode":"dev","redis":{"min_replicas_to_ack":1,"replica_ack_timeout_ms":2000}}"#
        XCTAssertThrowsError(try load(slowWait)) {
            XCTAssertTrue("\($0)".contains("must be below redis.command_timeout_ms (2000)"), "\($0)")
        }
    }
}
