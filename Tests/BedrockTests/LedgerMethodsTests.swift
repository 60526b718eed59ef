import JSONCodec
import JWTAuth
import RedisClient
import XCTest

@testable import Bedrock

/// The ledger's methods through the shared method table (what REST and the socket both call),
/// against a real redis-server; plus the `ledger.*` configuration keys.
final class LedgerMethodsTests: RedisTestCase {
    var ledger: Ledger!
    let table = MethodTable()

    override func setUpWithError() throws {
        try super.setUpWithError()
        ledger = try Ledger(settings: LedgerSettings(prefix: "m:"))
        LedgerMethods.register(in: table, ledger: ledger, pool: RedisPool(address: redis.address))
    }

    private func call(_ method: Method, _ params: JSONObject = [:], role: Role = .admin) -> Result<JSONValue, APIError> {
        let done = expectation(description: "answer")
        nonisolated(unsafe) var answer: Result<JSONValue, APIError>?
        table.dispatch(method, MethodCall(subject: "tester", role: role, params: params)) { result in
            answer = result
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        return answer!
    }

    private func code(_ r: Result<JSONValue, APIError>) -> ErrorCode? {
        if case .failure(let e) = r { return e.code }
        return nil
    }

    private func value(_ r: Result<JSONValue, APIError>, file: StaticString = #filePath, line: UInt = #line) -> JSONValue {
        switch r {
        case .success(let v): return v
        case .failure(let e): XCTFail("\(e)", file: file, line: line); return .null
        }
    }

    func testPagingParameters() throws {
        for i in 0..<3 {
            _ = try ledger.recordSignal(
                SignalInput(
                    strategy: "s", market: "BTC/USDT", interval: "1h", barTime: "\(i)",
                    signalType: "OOPS_BUY", side: "BUY", entryPrice: 10, ruleEngineScore: 50,
                    finalDecision: "REJECTED", explanation: "x"), on: conn)
        }
        let page = value(call(.signalsList, ["limit": "500", "offset": "1"]))
        XCTAssertEqual(page["total"], 3)
        XCTAssertEqual(page["page_size"], 100)
        XCTAssertEqual(page["page"], 1)
        XCTAssertEqual(page["data"]?.arrayValue?.count, 2)
        XCTAssertEqual(value(call(.signalsList, ["limit": 2, "offset": 2]))["page"], 2)
        for bad: JSONObject in [["limit": "x"], ["limit": 0], ["offset": "-1"], ["offset": 1.5]] {
            XCTAssertEqual(code(call(.signalsList, bad)), .badRequest, "\(bad)")
        }
        XCTAssertEqual(code(call(.positionsList, ["status": "maybe"])), .badRequest)
        XCTAssertEqual(code(call(.signalsGet, ["id": "42"])), .notFound)
        XCTAssertEqual(code(call(.signalsGet, ["id": "abc"])), .notFound)
        XCTAssertEqual(code(call(.signalsGet)), .badRequest)
        XCTAssertEqual(value(call(.signalsArbiterStats))["rejection_reasons"]?["BELOW_THRESHOLD"], 3)
    }

    func testCloseKillSwitchAndEstimate() throws {
        _ = try conn.command([
            "XADD", "m:stream:klines:BTC/USDT:1h", "*", "event",
            #"{"event_type":"kline.closed","market":"BTC/USDT","interval":"1h","close":120}"#,
        ]).checked()
        let id = try XCTUnwrap(
            ledger.openPosition(
                OpenInput(
                    signalID: nil, market: "BTC/USDT", side: "BUY", size: 2,
                    entryPrice: 100), on: conn
            ).id)
        XCTAssertEqual(code(call(.positionsClose, ["id": "999"])), .notFound)
        let closed = value(call(.positionsClose, ["id": .string(String(id))]))
        XCTAssertEqual(closed["status"], "CLOSED")
        XCTAssertEqual(closed["opened_by"], "engine", "an open without a subject is the engine's")
        XCTAssertEqual(closed["closed_by"], "tester", "a manual close records the caller's subject")
        XCTAssertEqual(closed["exit_price"]?.doubleValue, 120)
        XCTAssertEqual(closed["exit_reason"], "MANUAL")
        XCTAssertEqual(code(call(.positionsClose, ["id": .int(id)])), .conflict)
        XCTAssertEqual(value(call(.marketsList))["data"]?.arrayValue?.first?["market"], "BTC/USDT")

        XCTAssertEqual(code(call(.riskKillSwitch, [:])), .badRequest)
        XCTAssertEqual(code(call(.riskKillSwitch, ["enabled": "yes"])), .badRequest)
        XCTAssertEqual(code(call(.riskKillSwitch, ["enabled": true], role: .trader)), .forbidden)
        XCTAssertEqual(value(call(.riskKillSwitch, ["enabled": true]))["kill_switch"], true)
        XCTAssertEqual(value(call(.riskGet))["kill_switch"], true)

        let est = value(call(.positionsEstimate, ["market": "ETH/USDT", "entry_price": "100", "stop_loss_price": "95"]))
        XCTAssertEqual(est["allowed"], false)
        XCTAssertEqual(est["reasons"]?.arrayValue?.first?["code"], "KILL_SWITCH")
        XCTAssertEqual(est["position_weight_used"], .null)
        XCTAssertEqual(
            code(call(.positionsEstimate, ["market": "ETH/USDT", "entry_price": "x", "stop_loss_price": "95"])), .badRequest)
        XCTAssertEqual(code(call(.positionsEstimate, ["market": "ETH/USDT", "stop_loss_price": "95"])), .badRequest)
        XCTAssertEqual(code(call(.positionsEstimate, ["signal_id": "77"])), .notFound)
        XCTAssertEqual(value(call(.riskKillSwitch, ["enabled": false]))["kill_switch"], false)
        let ok = value(
            call(
                .positionsEstimate,
                [
                    "market": "ETH/USDT", "entry_price": 100, "stop_loss_price": 95,
                    "suggested_position_weight": 0.5,
                ]))
        XCTAssertEqual(ok["allowed"], true)
        XCTAssertEqual(ok["position_weight_used"]?.doubleValue, 0.5)
    }

    func testMarketParametersFollowTheMarketRule() {
        let prices: JSONObject = ["entry_price": 100, "stop_loss_price": 95]
        for bad in ["BTCUSDT\r\n", String(repeating: "B", count: 5000), "BTC USDT"] {
            var estimate = prices
            estimate["market"] = .string(bad)
            for (method, params) in [
                (Method.signalsList, ["market": JSONValue.string(bad)] as JSONObject), (.positionsList, ["market": .string(bad)]),
                (.tradesList, ["market": .string(bad)]), (.positionsEstimate, estimate),
            ] {
                XCTAssertEqual(code(call(method, params)), .badRequest, "\(method) \(bad.debugDescription)")
            }
        }
        XCTAssertNil(code(call(.signalsList, ["market": "BTC/USDT"])))
    }

    func testLedgerConfigKeys() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-cfg-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("c.json").path
        try #"{"mode":"dev","ledger":{"initial_balance":5000,"max_open_positions":2}}"#.write(
            toFile: file, atomically: true, encoding: .utf8)
        let env = ["BEDROCK_JWT_SECRET": "ledger-config-test-secret-0123456789", "BEDROCK_LEDGER_COMMISSION": "0.002"]
        let c = try GatewayConfig.load(.init(configFile: file, dataDir: dir.path, environment: env))
        XCTAssertEqual(c.ledger.initialBalance, 5000)
        XCTAssertEqual(c.ledger.maxOpenPositions, 2)
        XCTAssertEqual(c.ledger.commission, 0.002)
        XCTAssertEqual(c.ledger.maxDrawdown, 0.25)
        try #"{"mode":"dev","ledger":{"comission":0.1}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GatewayConfig.load(.init(configFile: file, dataDir: dir.path, environment: env))) {
            XCTAssertTrue("\($0)".contains("ledger.comission: unknown key"), "\($0)")
        }
        var bad = env
        bad["BEDROCK_LEDGER_COMMISSION"] = "2"
        XCTAssertThrowsError(try GatewayConfig.load(.init(configFile: nil, dataDir: dir.path, environment: bad))) {
            XCTAssertTrue("\($0)".contains("ledger.commission"), "\($0)")
        }
    }
}
