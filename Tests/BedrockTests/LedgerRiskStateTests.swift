import Foundation
import XCTest

import enum TradingCore.RiskGuard
import struct TradingCore.RiskReason

@testable import Bedrock

/// Risk state kept by the scripts (start-of-day equity, peak equity) and atomicity between
/// concurrent writers (two gateways on one Redis).
final class LedgerRiskStateTests: XCTestCase {
    var redis: RedisTestServer!
    var ledger: Ledger!

    override func setUpWithError() throws {
        redis = try RedisTestServer()
        ledger = try Ledger(settings: LedgerSettings(prefix: "r:", initialBalance: 10_000, commissionRate: 0))
    }

    override func tearDown() { redis = nil }

    func testDailyLossAndDrawdownFollowTheUTCDay() throws {
        let conn = try redis.connect()
        let day1 = Int64(1_767_225_600_000)  // 2026-01-01T00:00:00Z
        let id = try XCTUnwrap(
            ledger.openPosition(
                OpenInput(signalID: 1, market: "A", side: "BUY", size: 10, entryPrice: 100),
                on: conn, nowMillis: day1 + 3_600_000
            ).id)
        XCTAssertEqual(try ledger.markPosition(id: id, price: 120, on: conn, nowMillis: day1 + 7_200_000).status, "updated")
        XCTAssertEqual(
            try ledger.closePosition(id: id, price: 50, reason: "STOP", on: conn, nowMillis: day1 + 10_800_000).status, "closed")
        let snap = try ledger.snapshot(on: conn)
        let sameDay = ledger.riskState(snap, nowMillis: day1 + 20_000_000)
        XCTAssertEqual(sameDay.equity, 9_500)
        XCTAssertEqual(sameDay.dayStartEquity, 10_000)
        XCTAssertEqual(sameDay.peakEquity, 10_200, "the mark at 120 set the peak")
        XCTAssertEqual(RiskGuard.dailyLoss(sameDay), 0.05, accuracy: 1e-12)
        let nextDay = ledger.riskState(snap, nowMillis: day1 + 86_400_000 + 1)
        XCTAssertEqual(nextDay.dayStartEquity, 9_500, "a new UTC day starts from the current equity")
        // the first change of the next day records its starting equity
        _ = try ledger.openPosition(
            OpenInput(signalID: 2, market: "A", side: "BUY", size: 1, entryPrice: 100),
            on: conn, nowMillis: day1 + 86_400_000 + 5)
        let stored = try conn.command(["HMGET", "r:risk", "day", "day_start_equity"]).checked().array?.compactMap(\.string)
        XCTAssertEqual(stored, ["2026-01-02", "9500"])
    }

    func testConcurrentOpensInOneMarketOpenOnce() throws {
        let connections = try (0..<8).map { _ in try redis.connect() }
        let lock = NSLock()
        nonisolated(unsafe) var statuses: [String] = []
        let ledger = self.ledger!
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let r = try? ledger.openPosition(
                OpenInput(
                    signalID: Int64(100 + i), market: "BTC/USDT", side: "BUY", size: 1,
                    entryPrice: 100), on: connections[i])
            lock.lock(); statuses.append(r?.status ?? "error"); lock.unlock()
        }
        XCTAssertEqual(statuses.filter { $0 == "opened" }.count, 1, "\(statuses)")
        XCTAssertEqual(statuses.filter { $0 == "refused" }.count, 7, "\(statuses)")
        let conn = try redis.connect()
        XCTAssertEqual(try conn.command(["XLEN", "r:stream:portfolio"]).checked().integer, 1)
    }
}

extension LedgerRiskStateTests {
    func testCountersForMetrics() throws {
        let conn = try redis.connect()
        XCTAssertEqual(try ledger.counters(on: conn).positionsOpened, 0)
        _ = try ledger.recordSignal(
            SignalInput(
                strategy: "s", market: "A", interval: "1h", barTime: "1", signalType: "OOPS_BUY",
                side: "BUY", entryPrice: 10, ruleEngineScore: 90, finalDecision: "APPROVED",
                explanation: "x"), on: conn)
        let id = try XCTUnwrap(
            ledger.openPosition(OpenInput(signalID: 1, market: "A", side: "BUY", size: 2, entryPrice: 10), on: conn).id)
        _ = try ledger.markPosition(id: id, price: 12, on: conn)
        _ = try ledger.riskAlert(
            market: "B", signalID: nil, reasons: [RiskReason(code: .killSwitch, message: "k", value: 1, limit: 0)], on: conn)
        let c = try ledger.counters(on: conn)
        XCTAssertEqual(
            c,
            LedgerCounters(
                signalsGenerated: 1, signalsApproved: 1, signalsRejected: 0, positionsOpened: 1,
                positionsClosed: 0, refusals: ["KILL_SWITCH": 1], openExposure: 24))
    }
}
