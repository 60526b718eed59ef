import JWTAuth
import XCTest

@testable import Bedrock

final class TopicACLTests: XCTestCase {
    func testValidTopicsParse() {
        XCTAssertEqual(Topic("signals"), .signals)
        XCTAssertEqual(Topic("portfolio"), .portfolio)
        XCTAssertEqual(Topic("risk"), .risk)
        XCTAssertEqual(Topic("opportunities"), .opportunities)
        XCTAssertEqual(Topic("models"), .models)
        XCTAssertEqual(Topic.models.name, "models")
        XCTAssertEqual(Topic("klines:BTCUSDT:1m"), .klines(market: "BTCUSDT", interval: "1m"))
        // Any market spelling is held as the canonical id (SPEC §10).
        for spelling in ["BTC_USDT", "BTC/USDT", "btc-usdt", "btcusdt"] {
            XCTAssertEqual(Topic("klines:\(spelling):4h"), .klines(market: "BTCUSDT", interval: "4h"), spelling)
            XCTAssertEqual(Topic("klines:\(spelling):4h")?.name, "klines:BTCUSDT:4h", spelling)
        }
        XCTAssertEqual(Topic("klines:\(String(repeating: "A", count: 32)):1M")?.name.count, 7 + 32 + 3)
    }

    func testInvalidTopicsRefused() {
        let bad = [
            "", "Signals", "signal", " signals", "signals ", "klines", "klines:", "klines::1m",
            "klines:BTCUSDT", "klines:BTCUSDT:", "klines:BTC//USDT:1m", "klines:BTCUSDT:2m", "klines:BTC_USDT-X:1m",
            "klines:BTCUSDT:1m:extra", "klines:BTC USDT:1m", "klines:_BTC:1m", "klines:-BTC:1m",
            "klines:BTC/:1m", "klines:\(String(repeating: "A", count: 33)):1m",
            "klines:BTCUSDT:1H", "klines:BTCÜSDT:1m", "klines:*:1m", "risk:x",
        ]
        for name in bad { XCTAssertNil(Topic(name), "\(name) should be invalid") }
    }

    func testSubscribeTablePerRole() {
        let topics: [Topic] = [
            .signals, .opportunities, .klines(market: "ETHUSDT", interval: "5m"),
            .portfolio, .risk, .models, .news,
        ]
        let allowed: [Role: Set<String>] = [
            .viewer: ["signals", "opportunities", "klines:ETHUSDT:5m", "models", "news"],
            .trader: ["signals", "opportunities", "klines:ETHUSDT:5m", "portfolio", "risk", "models", "news"],
            .admin: ["signals", "opportunities", "klines:ETHUSDT:5m", "portfolio", "risk", "models", "news"],
        ]
        for role in Role.allCases {
            for t in topics {
                XCTAssertEqual(
                    canSubscribe(role: role, topic: t), allowed[role]!.contains(t.name),
                    "\(role) \(t)")
            }
        }
    }

    func testRoleOrdering() {
        XCTAssertTrue(Role.admin > Role.trader)
        XCTAssertTrue(Role.trader > Role.viewer)
        XCTAssertEqual(Role.allCases.sorted(), [.viewer, .trader, .admin])
        XCTAssertEqual(Role(rawValue: "ADMIN"), .admin)
        XCTAssertNil(Role(rawValue: "admin"))
    }

    func testMethodTable() {
        XCTAssertEqual(Method.allCases.count, 50)
        let traderMethods: Set<String> = [
            "signals.generate", "positions.open", "positions.close", "backtest.submit",
            "backtest.cancel", "optimize.submit", "training.submit", "training.cancel", "news.publish",
            "journal.generate", "review.generate",
        ]
        for m in Method.allCases {
            let expect: Role =
                [
                    .riskKillSwitch, .modelsImport, .modelsDeploy, .engineConfigure, .engineDeploy, .enginePause,
                    .engineResume, .eventsPublish, .presenceGet, .adminDisconnect,
                ]
                .contains(m)
                ? .admin
                : traderMethods.contains(m.rawValue) ? .trader : .viewer
            XCTAssertEqual(m.leastRole, expect, m.rawValue)
        }
        XCTAssertEqual(MethodACL.check(role: .viewer, method: "signals.list"), .allowed(.signalsList))
        XCTAssertEqual(MethodACL.check(role: .viewer, method: "signals.generate"), .forbidden(.signalsGenerate))
        XCTAssertEqual(MethodACL.check(role: .trader, method: "signals.generate"), .allowed(.signalsGenerate))
        XCTAssertEqual(MethodACL.check(role: .trader, method: "risk.kill_switch"), .forbidden(.riskKillSwitch))
        XCTAssertEqual(MethodACL.check(role: .admin, method: "risk.kill_switch"), .allowed(.riskKillSwitch))
        XCTAssertEqual(MethodACL.check(role: .admin, method: "nope.nope"), .unknown)
        XCTAssertNil(MethodACL.leastRole(for: "Signals.list"))
    }
}

/// The live `Authorization` parser (`HTTPExchange.bearerToken(in:)`): the scheme `Bearer` in any
/// case, then spaces; a tab right after the scheme is refused. Query tokens (`?token=`) are split by
/// libwebsockets and checked end to end by the integration tests.
final class BearerTokenTests: XCTestCase {
    func testAuthorizationHeader() {
        XCTAssertEqual(HTTPExchange.bearerToken(in: "Bearer abc.def.ghi"), "abc.def.ghi")
        XCTAssertEqual(HTTPExchange.bearerToken(in: "bearer   abc.def.ghi  "), "abc.def.ghi")
        XCTAssertNil(HTTPExchange.bearerToken(in: "BEARER\tx"))
        XCTAssertNil(HTTPExchange.bearerToken(in: "Bearer "))
        XCTAssertNil(HTTPExchange.bearerToken(in: "Bearerabc"))
        XCTAssertNil(HTTPExchange.bearerToken(in: "Basic dXNlcjpwdw=="))
        XCTAssertNil(HTTPExchange.bearerToken(in: ""))
    }
}
