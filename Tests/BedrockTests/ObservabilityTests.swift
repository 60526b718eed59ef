import Logging
import XCTest

@testable import Bedrock

/// The log line formats of `StderrLogHandler` and what `MetricsRegistry` renders.
final class ObservabilityTests: XCTestCase {
    func testJSONLineCarriesTimeLevelMessageAndTypedFields() throws {
        let line = StderrLogHandler.json(
            ts: "2026-01-02T03:04:05.678Z", level: .warning, message: "say \"hi\"\n",
            fields: [
                "status": .stringConvertible(200), "duration_ms": .stringConvertible(1.5),
                "path": "/v1/x", "ok": .stringConvertible(true),
            ])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["ts"] as? String, "2026-01-02T03:04:05.678Z")
        XCTAssertEqual(object["level"] as? String, "warn")
        XCTAssertEqual(object["msg"] as? String, "say \"hi\"\n")
        XCTAssertEqual(object["status"] as? Int, 200)
        XCTAssertEqual(object["duration_ms"] as? Double, 1.5)
        XCTAssertEqual(object["path"] as? String, "/v1/x")
        XCTAssertEqual(object["ok"] as? Bool, true)
        XCTAssertTrue(line.hasPrefix("{\"ts\":"), line)
    }

    func testTextLineIsReadable() {
        let line = StderrLogHandler.text(
            ts: "2026-01-02T03:04:05.678Z", level: .info, message: "ws close",
            fields: ["code": .stringConvertible(4401), "reason": "authenticate first", "sub": ""])
        XCTAssertEqual(line, "2026-01-02T03:04:05.678Z info ws close code=4401 reason=\"authenticate first\" sub=\"\"")
    }

    func testTimestampIsRFC3339UTCWithMilliseconds() {
        let ts = StderrLogHandler.timestamp()
        XCTAssertNotNil(ts.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression), ts)
    }

    func testConfigLevelsMapToSwiftLogLevels() {
        XCTAssertEqual(Logger.Level(GatewayConfig.LogLevel.warning), .warning)
        XCTAssertEqual(Logger.Level(GatewayConfig.LogLevel.debug), .debug)
        XCTAssertEqual(Logger.Level(GatewayConfig.LogLevel.critical), .critical)
    }

    func testConfigAcceptsWarnAsWarning() throws {
        let dir = NSTemporaryDirectory() + "obs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = try GatewayConfig.load(
            .init(
                configFile: nil, dataDir: dir, overrides: [],
                environment: ["BEDROCK_LOG_LEVEL": "warn", "BEDROCK_LOG_FORMAT": "json"]))
        XCTAssertEqual(c.log.level, .warning)
        XCTAssertEqual(c.log.format, .json)
    }

    func testLabelValuesAreEscaped() {
        let registry = MetricsRegistry()
        registry.counter("bedrock_test_total", help: "test", labels: [("topic", "a\"b\\c\nd")]).increment()
        XCTAssertTrue(registry.render().contains("bedrock_test_total{topic=\"a\\\"b\\\\c\\nd\"} 1\n"), registry.render())
    }

    func testMirrorFollowsATotalThatGoesDown() {
        let registry = MetricsRegistry()
        var mirror = CounterMirror(registry.counter("bedrock_test_total", help: "test"))
        mirror.publish(5)
        mirror.publish(7)
        XCTAssertTrue(registry.render().contains("bedrock_test_total 7\n"))
        mirror.publish(2)
        XCTAssertTrue(registry.render().contains("bedrock_test_total 2\n"))
    }

    func testScrapeHooksRunBeforeEachRender() {
        let registry = MetricsRegistry()
        let gauge = registry.gauge("bedrock_test_gauge", help: "test")
        let calls = UncheckedBox(Counted())
        registry.onScrape {
            calls.value.n += 1; gauge.set(to: Double(calls.value.n))
        }
        _ = registry.render()
        XCTAssertTrue(registry.render().contains("bedrock_test_gauge 2.0\n"))
    }
}

private final class Counted { var n = 0 }
