import Foundation
import JSONCodec
import Logging
import RedisClient
import XCTest

@testable import Bedrock

/// The access line `AccessLog` formats by hand is the line `StderrLogHandler` writes for the same
/// fields, and the levels and `log.requests` decide which answers get one.
final class AccessLogTests: XCTestCase {
    private let ts = "2026-01-02T03:04:05.678Z"
    private let entry = AccessEntry(
        requestID: "req-1", method: "GET", path: "/v1/a \"b\"", status: 404, micros: 189, subject: "lou")

    private func config(_ format: GatewayConfig.LogFormat, _ level: GatewayConfig.LogLevel = .info, requests: Bool = true)
        -> GatewayConfig.Log
    {
        var c = GatewayConfig.Log()
        c.format = format
        c.level = level
        c.requests = requests
        return c
    }

    private func line(_ log: AccessLog, _ entry: AccessEntry, level: Logger.Level = .info) -> String {
        var line = LogLine()
        line.bytes += ts.utf8
        log.format(entry, level: level, into: &line)
        return String(decoding: line.bytes, as: UTF8.self)
    }

    private func fields(_ entry: AccessEntry) -> Logger.Metadata {
        [
            "request_id": .string(entry.requestID), "method": .string(entry.method), "path": .string(entry.path),
            "status": .stringConvertible(entry.status), "duration_ms": .stringConvertible(Double(entry.micros) / 1000),
            "sub": .string(entry.subject),
        ]
    }

    func testJSONLineEqualsTheHandlersLine() throws {
        let log = AccessLog(config(.json))
        let ours = try JSONSerialization.jsonObject(with: Data(line(log, entry).utf8)) as? NSDictionary
        let handlers =
            try JSONSerialization.jsonObject(
                with: Data(StderrLogHandler.json(ts: ts, level: .info, message: "http request", fields: fields(entry)).utf8))
            as? NSDictionary
        XCTAssertEqual(ours, handlers)
        XCTAssertEqual(ours?["path"] as? String, "/v1/a \"b\"")
        XCTAssertEqual(ours?["duration_ms"] as? Double, 0.189)
        XCTAssertTrue(line(log, entry).hasPrefix(#"{"ts":"2026-01-02T03:04:05.678Z","level":"info","msg":"http request""#))
    }

    func testTextLineEqualsTheHandlersLine() {
        let log = AccessLog(config(.text))
        XCTAssertEqual(
            line(log, entry, level: .debug),
            StderrLogHandler.text(ts: ts, level: .debug, message: "http request", fields: fields(entry)))
        XCTAssertEqual(
            line(log, entry, level: .debug),
            #"2026-01-02T03:04:05.678Z debug http request duration_ms=0.189 method=GET path="/v1/a \"b\"" request_id=req-1 status=404 sub=lou"#
        )
    }

    func testAnAPIKeyCallCarriesTheKeysNameInBothFormats() throws {
        var keyed = entry
        keyed.subject = "apikey:backend-1"
        keyed.apiKeyName = "backend-1"
        var expected = fields(keyed)
        expected["api_key"] = .string("backend-1")
        XCTAssertEqual(
            line(AccessLog(config(.text)), keyed),
            StderrLogHandler.text(ts: ts, level: .info, message: "http request", fields: expected))
        let ours = try JSONSerialization.jsonObject(with: Data(line(AccessLog(config(.json)), keyed).utf8)) as? NSDictionary
        let handlers =
            try JSONSerialization.jsonObject(
                with: Data(StderrLogHandler.json(ts: ts, level: .info, message: "http request", fields: expected).utf8))
            as? NSDictionary
        XCTAssertEqual(ours, handlers)
        XCTAssertEqual(ours?["api_key"] as? String, "backend-1")
    }

    func testDurationsKeepThreeDecimals() {
        let log = AccessLog(config(.text))
        for (micros, text) in [(0, "0.000"), (1_500, "1.500"), (12_345_678, "12345.678")] {
            var e = entry
            e.micros = micros
            XCTAssertTrue(line(log, e).contains(" duration_ms=\(text) "), line(log, e))
        }
    }

    func testProbeRoutesNeedDebugAndRequestsOffWritesNothing() {
        let info = AccessLog(config(.json))
        XCTAssertTrue(info.wants("/v1/account"))
        XCTAssertTrue(info.wants("/index.html"))
        for probe in ["/health", "/health/live", "/health/ready", "/health/startup", "/ready", "/metrics"] {
            XCTAssertFalse(info.wants(probe), probe)
            XCTAssertTrue(AccessLog(config(.json, .debug)).wants(probe), probe)
        }
        XCTAssertFalse(AccessLog.isProbe("/healthz"))
        XCTAssertFalse(AccessLog(config(.json, .warning)).wants("/v1/account"))
        let off = AccessLog(config(.json, .debug, requests: false))
        XCTAssertFalse(off.wants("/v1/account"))
        XCTAssertFalse(off.wants("/health/live"))
    }

    func testConfigReadsLogRequests() throws {
        let dir = NSTemporaryDirectory() + "access-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let load = { (env: [String: String]) in
            try GatewayConfig.load(.init(configFile: nil, dataDir: dir, overrides: [], environment: env))
        }
        XCTAssertTrue(try load([:]).log.requests)
        XCTAssertFalse(try load(["BEDROCK_LOG_REQUESTS": "false"]).log.requests)
        XCTAssertThrowsError(try load(["BEDROCK_LOG_REQUESTS": "sometimes"]))
    }
}

/// `/health/startup` before Redis answers: 503 with each step's state.
final class StartupProbeTests: XCTestCase {
    func testStartingUntilEveryStepIsDone() throws {
        let probe = StartupProbe(loops: 2)
        probe.start(address: RedisAddress(host: "127.0.0.1", port: 1), scripts: try ScriptRunner(), timeout: 0.2)
        defer { probe.stop(timeout: 0.2) }
        probe.loopRunning(1)
        let (status, body) = probe.answer()
        XCTAssertEqual(status, 503)
        XCTAssertEqual(body["status"], "starting")
        XCTAssertEqual(
            body["checks"],
            ["configuration": "loaded", "redis": "waiting", "scripts": "waiting", "service_loops": "1/2 running"])
    }
}
