import JSONCodec
import XCTest

import struct TradingCore.RiskConfig
import struct TradingCore.RiskReason

@testable import Bedrock

/// The ledger's Lua scripts against a real redis-server: idempotency, one event per change,
/// the exact account invariant, refusals and NOSCRIPT reloads.
final class LedgerScriptTests: RedisTestCase {
    var ledger: Ledger!
    let prefix = "t:"

    override func setUpWithError() throws {
        try super.setUpWithError()
        ledger = try Ledger(settings: LedgerSettings(prefix: prefix, initialBalance: 100_000, commissionRate: 0.001))
    }

    func signal(
        _ market: String = "BTC/USDT", bar: String = "2026-01-01T00:00:00Z", entry: Double = 100,
        decision: String = "APPROVED"
    ) -> SignalInput {
        SignalInput(
            strategy: "pullback", market: market, interval: "1h", barTime: bar, signalType: "PULLBACK_BUY",
            side: "BUY", entryPrice: entry, stopLossPrice: entry * 0.95, profitTargetPrice: entry * 1.1,
            riskUnitR: entry * 0.05, suggestedPositionWeight: 0.5, ruleEngineScore: 80,
            finalDecision: decision, explanation: "test")
    }

    func events(_ topic: String) throws -> [JSONObject] {
        let reply = try conn.command(["XRANGE", prefix + "stream:" + topic, "-", "+"]).checked()
        return (reply.array ?? []).compactMap { entry in
            guard let fields = entry.array?.last?.array, fields.count == 2, let text = fields[1].string else { return nil }
            return (try? JSONCodec.parse(text))?.objectValue
        }
    }

    func units(_ hash: [String: String], _ field: String) -> Int64 { Money.units(hash[field] ?? "0")! }

    func accountHash() throws -> [String: String] { try conn.command(["HGETALL", prefix + "account"]).checked().hash }

    func testRecordSignalTwiceGivesOneSignalAndOneEvent() throws {
        let first = try ledger.recordSignal(signal(), on: conn)
        let second = try ledger.recordSignal(signal(), on: conn)
        XCTAssertEqual(first.status, "created")
        XCTAssertNotNil(first.eventID)
        XCTAssertEqual(second.status, "existing")
        XCTAssertEqual(second.id, first.id)
        XCTAssertNil(second.eventID)
        XCTAssertEqual(try ledger.signals(market: nil, offset: 0, limit: 10, on: conn).total, 1)
        let created = try events("signals")
        XCTAssertEqual(created.count, 1)
        XCTAssertEqual(created[0]["event_type"], "signal.created")
        XCTAssertEqual(created[0]["schema_version"], "2.0")
        XCTAssertEqual(created[0]["id"]?.intValue, first.id)
        XCTAssertEqual(created[0]["entry_price"]?.doubleValue, 100)
        XCTAssertEqual(try ledger.arbiterStats(on: conn)["approved"], 1)
    }

    func testOpenTwiceAndCloseTwice() throws {
        let sid = try XCTUnwrap(ledger.recordSignal(signal(), on: conn).id)
        let input = OpenInput(signalID: sid, market: "BTC/USDT", side: "BUY", size: 10, entryPrice: 100, stopLossPrice: 95)
        let open1 = try ledger.openPosition(input, on: conn)
        let open2 = try ledger.openPosition(input, on: conn)
        XCTAssertEqual(open1.status, "opened")
        XCTAssertEqual(open2.status, "existing")
        XCTAssertEqual(open2.id, open1.id)
        let pid = try XCTUnwrap(open1.id)
        let close1 = try ledger.closePosition(id: pid, price: 110, reason: "TARGET", on: conn)
        let close2 = try ledger.closePosition(id: pid, price: 120, reason: "MANUAL", on: conn)
        XCTAssertEqual(close1.status, "closed")
        XCTAssertEqual(close2.status, "already_closed")
        XCTAssertNil(close2.eventID)
        XCTAssertEqual(try ledger.positions(market: nil, status: nil, offset: 0, limit: 10, on: conn).total, 1)
        XCTAssertEqual(try ledger.trades(market: nil, offset: 0, limit: 10, on: conn).total, 1)
        let portfolio = try events("portfolio")
        XCTAssertEqual(portfolio.map { $0["event_type"]?.stringValue ?? "" }, ["portfolio.updated", "position.closed"])
        XCTAssertEqual(portfolio[0]["action"], "POSITION_OPENED")
        // gross 100, commission 1 (entry) + 1.1 (exit) => net 97.9
        XCTAssertEqual(portfolio[1]["realized_pnl"]?.doubleValue, 97.9)
        XCTAssertEqual(portfolio[1]["exit_reason"], "TARGET")
        let position = try XCTUnwrap(ledger.record(.position, id: pid, on: conn))
        XCTAssertEqual(position["status"], "CLOSED")
        XCTAssertEqual(position["realized_pnl"]?.doubleValue, 97.9)
        XCTAssertEqual(Money.units(try accountHash()["balance"]!), Money.units("100097.9"))
        XCTAssertEqual(try ledger.closePosition(id: 999, price: 1, reason: "MANUAL", on: conn).status, "not_found")
    }

    func testAccountInvariantAndOneEventPerChange() throws {
        let markets = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
        var opened = 0, closed = 0, marked = 0
        var rng = SplitMix(seed: 42)
        for step in 0..<60 {
            let market = markets[step % 3]
            let price = 50 + Double(rng.next() % 10_000) / 97.0
            let open = try ledger.openPositions(on: conn).first { $0["market"]?.stringValue == market }
            if let open, let id = open["id"]?.intValue {
                if step % 2 == 0 {
                    let r = try ledger.markPosition(id: id, price: price, trailingStop: price * 0.9, on: conn)
                    if r.status == "updated" { marked += 1 }
                } else {
                    XCTAssertEqual(try ledger.closePosition(id: id, price: price, reason: "STOP", on: conn).status, "closed")
                    closed += 1
                }
            } else {
                let side = step % 4 == 0 ? "SELL" : "BUY"
                let size = Double(rng.next() % 100_000) / 3333.0 + 0.00000001
                let r = try ledger.openPosition(
                    OpenInput(
                        signalID: nil, market: market, side: side, size: size,
                        entryPrice: price), on: conn)
                if r.status == "opened" { opened += 1 }
            }
            // balance = initial + Σ gross realized − Σ commission, to the last 1e-8
            let a = try accountHash()
            XCTAssertEqual(
                units(a, "balance"), units(a, "initial_balance") + units(a, "realized_pnl") - units(a, "commission"),
                "step \(step)")
            let openNow = try ledger.openPositions(on: conn)
            let frozen = try openNow.reduce(Int64(0)) { sum, p in
                let stored = try conn.command(["HGET", prefix + "position:\(p["id"]!.intValue!)", "cost"]).checked()
                return sum + Money.units(stored.string!)!
            }
            XCTAssertEqual(units(a, "frozen"), frozen, "frozen = Σ cost of open positions, step \(step)")
        }
        XCTAssertGreaterThan(closed, 5)
        let trades = try ledger.trades(market: nil, offset: 0, limit: 100, on: conn).data
        XCTAssertEqual(trades.count, closed)
        // Σ net trade pnl = realized − commission of closed trades
        let netUnits = try trades.reduce(Int64(0)) { sum, t in
            let stored = try conn.command(["HGET", prefix + "trade:\(t["id"]!.intValue!)", "pnl"]).checked()
            return sum + Money.units(stored.string!)!
        }
        let stats = try conn.command(["HGET", prefix + "stats", "net_pnl"]).checked()
        XCTAssertEqual(Money.units(stats.string!), netUnits)
        // every change has exactly one event, every event its change
        let portfolio = try events("portfolio")
        XCTAssertEqual(portfolio.filter { $0["action"] == "POSITION_OPENED" }.count, opened)
        XCTAssertEqual(portfolio.filter { $0["action"] == "POSITION_UPDATED" }.count, marked)
        XCTAssertEqual(portfolio.filter { $0["event_type"] == "position.closed" }.count, closed)
        XCTAssertEqual(try ledger.positions(market: nil, status: nil, offset: 0, limit: 100, on: conn).total, opened)
        XCTAssertEqual(
            Set(portfolio.filter { $0["event_type"] == "position.closed" }.compactMap { $0["position_id"]?.intValue }).count,
            closed)
    }

    func testRefusalsWriteNothing() throws {
        let big = OpenInput(signalID: 7, market: "BTC/USDT", side: "BUY", size: 1000, entryPrice: 100)
        let refused = try ledger.openPosition(big, on: conn)
        XCTAssertEqual(refused.status, "refused")
        XCTAssertEqual(refused.reason, "INSUFFICIENT_BALANCE")
        XCTAssertEqual(try events("portfolio").count, 0)
        XCTAssertEqual(try ledger.positions(market: nil, status: nil, offset: 0, limit: 10, on: conn).total, 0)

        XCTAssertEqual(try ledger.setKillSwitch(true, by: "admin", on: conn).status, "changed")
        XCTAssertEqual(try ledger.setKillSwitch(true, by: "admin", on: conn).status, "unchanged")
        let small = OpenInput(signalID: 8, market: "BTC/USDT", side: "BUY", size: 1, entryPrice: 100)
        XCTAssertEqual(try ledger.openPosition(small, on: conn).reason, "KILL_SWITCH")
        XCTAssertEqual(try ledger.risk(on: conn)["kill_switch"], true)
        XCTAssertEqual(try ledger.setKillSwitch(false, by: "admin", on: conn).status, "changed")
        XCTAssertEqual(try ledger.openPosition(small, on: conn).status, "opened")
        let second = OpenInput(signalID: 9, market: "BTC/USDT", side: "BUY", size: 1, entryPrice: 100)
        XCTAssertEqual(try ledger.openPosition(second, on: conn).reason, "MARKET_ALREADY_OPEN")
        let risk = try events("risk")
        XCTAssertEqual(risk.map { $0["action"]?.stringValue ?? "" }, ["KILL_SWITCH_ENGAGED", "KILL_SWITCH_RELEASED"])

        let reasons = [RiskReason(code: .maxExposure, message: "too much", value: 1.2, limit: 1)]
        XCTAssertEqual(try ledger.riskAlert(market: "ETH/USDT", signalID: 11, reasons: reasons, on: conn).status, "recorded")
        XCTAssertEqual(try ledger.riskAlert(market: "ETH/USDT", signalID: 11, reasons: reasons, on: conn).status, "existing")
        XCTAssertEqual(try events("risk").count, 3)
        XCTAssertEqual(try ledger.risk(on: conn)["refusals"]?["MAX_EXPOSURE"], 1)
    }

    func testTrailingStopNeverLoosensAndUnchangedMarkWritesNothing() throws {
        let id = try XCTUnwrap(
            ledger.openPosition(
                OpenInput(
                    signalID: 1, market: "BTC/USDT", side: "BUY", size: 1,
                    entryPrice: 100, stopLossPrice: 95), on: conn
            ).id)
        XCTAssertEqual(try ledger.markPosition(id: id, price: 110, trailingStop: 104, on: conn).status, "updated")
        XCTAssertEqual(try ledger.markPosition(id: id, price: 108, trailingStop: 102, on: conn).status, "updated")
        let p = try XCTUnwrap(ledger.record(.position, id: id, on: conn))
        XCTAssertEqual(p["trailing_stop_price"]?.doubleValue, 104)
        XCTAssertEqual(p["unrealized_pnl"]?.doubleValue, 8)
        XCTAssertEqual(try ledger.account(on: conn)["equity"]?.doubleValue, 100_000 - 0.1 + 8)
        XCTAssertEqual(try ledger.markPosition(id: id, price: 108, trailingStop: 101, on: conn).status, "unchanged")
        XCTAssertEqual(try events("portfolio").count, 3)
    }

    func testNoscriptReloadIsTransparent() throws {
        XCTAssertEqual(try ledger.recordSignal(signal(bar: "a"), on: conn).status, "created")
        _ = try conn.command(["SCRIPT", "FLUSH"]).checked()
        XCTAssertEqual(try ledger.recordSignal(signal(bar: "b"), on: conn).status, "created")
        XCTAssertEqual(try ledger.signals(market: nil, offset: 0, limit: 10, on: conn).total, 2)
    }

    func testPagingNewestFirstAndMarketFilter() throws {
        for i in 0..<5 { _ = try ledger.recordSignal(signal(i % 2 == 0 ? "BTC/USDT" : "ETH/USDT", bar: "bar\(i)"), on: conn) }
        let page = try ledger.signals(market: nil, offset: 1, limit: 2, on: conn)
        XCTAssertEqual(page.total, 5)
        XCTAssertEqual(page.data.map { $0["id"]?.intValue }, [4, 3])
        let eth = try ledger.signals(market: "ETH/USDT", offset: 0, limit: 10, on: conn)
        XCTAssertEqual(eth.data.map { $0["id"]?.intValue }, [4, 2])
    }

    func testMoneyTextRoundTrips() {
        XCTAssertEqual(Money.units("100000"), 10_000_000_000_000)
        XCTAssertEqual(Money.units("-0.00000001"), -1)
        XCTAssertNil(Money.units("1.000000001"))
        XCTAssertEqual(Money.text(units: -150_000_000), "-1.5")
        XCTAssertEqual(Money.text(0.1 + 0.2), "0.3")
    }
}

/// A tiny deterministic generator for the test sequences.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension LedgerScriptTests {
    func testEnterOpensOnceOrRefusesWithOneAlert() throws {
        let first = try XCTUnwrap(ledger.recordSignal(signal("BTC/USDT", bar: "e1"), on: conn).id)
        guard case .opened(let w) = try ledger.enter(signalID: first, on: conn) else { return XCTFail("not opened") }
        XCTAssertEqual(try ledger.enter(signalID: first, on: conn), .existing(positionID: w.id!))
        let position = try XCTUnwrap(ledger.record(.position, id: w.id!, on: conn))
        XCTAssertEqual(position["position_weight_used"]?.doubleValue, 0.5)
        // weight 0.5 of 100000 at 100 => 500 units
        XCTAssertEqual(position["position_size"]?.doubleValue, 500)

        let second = try XCTUnwrap(ledger.recordSignal(signal("BTC/USDT", bar: "e2"), on: conn).id)
        guard case .refused(let reasons) = try ledger.enter(signalID: second, on: conn) else { return XCTFail("not refused") }
        XCTAssertEqual(reasons.map(\.code), [.marketAlreadyOpen])
        _ = try ledger.enter(signalID: second, on: conn)
        XCTAssertEqual(try events("risk").count, 1, "one risk.alert per refused signal")
        XCTAssertEqual(try ledger.risk(on: conn)["refusals"]?["MARKET_ALREADY_OPEN"], 1)
    }

    func testMaxOpenPositionsIsCheckedInsideTheScript() throws {
        let tight = try Ledger(settings: LedgerSettings(prefix: prefix, risk: RiskConfig(maxOpenPositions: 1)))
        XCTAssertEqual(
            try tight.openPosition(OpenInput(signalID: 1, market: "A", side: "BUY", size: 1, entryPrice: 10), on: conn).status,
            "opened")
        let refused = try tight.openPosition(OpenInput(signalID: 2, market: "B", side: "BUY", size: 1, entryPrice: 10), on: conn)
        XCTAssertEqual(refused.reason, "MAX_OPEN_POSITIONS")
    }
}
