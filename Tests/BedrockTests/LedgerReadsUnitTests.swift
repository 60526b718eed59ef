import JSONCodec
import XCTest

@testable import Bedrock

/// The pure parts of the ledger reads: filter parameters, the row table's filters and order, the
/// CSV writer and the trade analytics.
final class LedgerReadsUnitTests: XCTestCase {
    private func params(_ p: JSONObject) -> LedgerParams { LedgerParams(params: p) }

    private func refusal(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as APIError {
            XCTAssertEqual(error.code, .badRequest)
            return error.message
        } catch {
            return "\(error)"
        }
    }

    func testFilterParametersPerKind() throws {
        let f = try params([
            "market": "btc/usdt", "side": "sell", "interval": "1h", "strategy": "oops", "final_decision": "approved",
            "status": "bogus", "from": "2026-01-02", "to": "2026-01-03",
        ]).filter(for: .signal)
        XCTAssertEqual(f.market, "BTCUSDT")
        XCTAssertEqual(f.side, "SELL")
        XCTAssertEqual(f.interval, "1h")
        XCTAssertEqual(f.strategy, "oops")
        XCTAssertEqual(f.finalDecision, "APPROVED")
        XCTAssertNil(f.status, "signals take no status")
        XCTAssertEqual(f.from, 1_767_312_000_000)
        XCTAssertEqual(f.to, 1_767_484_800_000 - 1, "to counts the whole day")
        let trade = try params(["exit_reason": "stop_loss", "from": "1767312000000", "to": "2026-01-02T01:00:00+01:00"])
            .filter(for: .trade)
        XCTAssertEqual(trade.exitReason, "STOP_LOSS")
        XCTAssertEqual(trade.from, 1_767_312_000_000)
        XCTAssertEqual(trade.to, 1_767_312_000_000)
        XCTAssertEqual(try params(["limit": 5, "status": ""]).filter(for: .position), LedgerFilter())
    }

    func testBadFiltersNameTheField() {
        XCTAssertEqual(refusal { _ = try params(["side": "LONG"]).filter(for: .trade) }, "side must be BUY or SELL")
        XCTAssertEqual(refusal { _ = try params(["status": "DONE"]).filter(for: .position) }, "status must be OPEN or CLOSED")
        XCTAssertEqual(
            refusal { _ = try params(["final_decision": "MAYBE"]).filter(for: .signal) },
            "final_decision must be APPROVED or REJECTED")
        XCTAssertTrue(refusal { _ = try params(["from": "yesterday"]).filter(for: .trade) }?.hasPrefix("from must be") ?? false)
        XCTAssertTrue(refusal { _ = try params(["to": "2026-13-01"]).filter(for: .trade) }?.hasPrefix("to must be") ?? false)
        XCTAssertEqual(
            refusal { _ = try params(["from": "2026-01-03", "to": "2026-01-02"]).filter(for: .trade) },
            "from must not be after to")
        XCTAssertTrue(refusal { _ = try params(["interval": "7m"]).filter(for: .signal) }?.hasPrefix("interval must be") ?? false)
        XCTAssertTrue(refusal { _ = try params(["market": "??"]).filter(for: .signal) }?.hasPrefix("market must be") ?? false)
    }

    func testMoneyBeyondInt64UnitsIsNotANumberRatherThanACrash() {
        XCTAssertEqual(Money.units("92233720368.54775807"), Int64.max)
        XCTAssertNil(Money.units("92233720368.54775808"))
        XCTAssertNil(Money.units("1737897120000"))
        XCTAssertEqual(Money.units("-0.3"), -30_000_000)
    }

    func testStoredTimesParseWithoutFoundation() {
        XCTAssertEqual(LedgerTime.utcMillis("2026-01-02T00:00:00.123Z"), 1_767_312_000_123)
        XCTAssertEqual(LedgerTime.utcMillis("2026-01-02T00:00:00Z"), 1_767_312_000_000)
        XCTAssertEqual(LedgerTime.utcMillis("2026-01-02T00:00:00.5Z"), 1_767_312_000_500)
        XCTAssertNil(LedgerTime.utcMillis("2026-01-02T00:00:00+01:00"))
        XCTAssertEqual(LedgerTime.millis("2026-01-02T01:00:00+01:00"), 1_767_312_000_000)
        XCTAssertNil(LedgerTime.millis("2026-01-02"))
        XCTAssertEqual(LedgerTime.date(day: 20_455), "2026-01-02")
        XCTAssertEqual(TradeStats.floorDay(-1), -1)
        XCTAssertEqual(TradeStats.floorDay(86_400_000), 1)
    }

    /// Rows 1...6: markets A/B alternating, sides BUY for even ids; 2 and 4 closed (4 before 2).
    private func table() -> (RecordTable, Vocabulary) {
        var words = Vocabulary()
        var table = RecordTable(capacity: 100)
        table.append(
            (Int64(1)...6).map { id in
                var row = IndexedRow(id: id, time: id * 1000)
                row.market = words.code(id % 2 == 1 ? "A" : "B")
                row.side = words.code(id % 2 == 0 ? "BUY" : "SELL")
                row.status = words.code("OPEN")
                return row
            })
        let closed = words.code("CLOSED")
        table.update(2) {
            $0.status = closed
            $0.closedAt = 9000
        }
        table.update(4) {
            $0.status = closed
            $0.closedAt = 8000
        }
        return (table, words)
    }

    func testTablePagesNewestFirstWithTotals() {
        let (table, words) = table()
        let all = table.page(RowQuery(LedgerFilter(), words), offset: 1, limit: 2)
        XCTAssertEqual(all.total, 6)
        XCTAssertEqual(all.rows.map(\.id), [5, 4])
        var f = LedgerFilter()
        f.market = "B"
        f.from = 3000
        let b = table.page(RowQuery(f, words), offset: 0, limit: 10)
        XCTAssertEqual(b.total, 2)
        XCTAssertEqual(b.rows.map(\.id), [6, 4])
        f.market = "C"
        XCTAssertEqual(table.page(RowQuery(f, words), offset: 0, limit: 10).total, 0, "an unknown value matches nothing")
        var closed = LedgerFilter()
        closed.status = "CLOSED"
        let byClose = table.page(RowQuery(closed, words), offset: 0, limit: 10, byCloseTime: true)
        XCTAssertEqual(byClose.rows.map(\.id), [2, 4], "closed positions by close time, newest first")
        XCTAssertEqual(table.page(RowQuery(closed, words), offset: 5, limit: 10, byCloseTime: true).rows, [])
    }

    func testTableStaysWithinCapacity() {
        var table = RecordTable(capacity: 3)
        table.append((Int64(1)...5).map { IndexedRow(id: $0, time: 0) })
        table.append([IndexedRow(id: 2, time: 0), IndexedRow(id: 6, time: 0)])
        XCTAssertEqual(table.rows.map(\.id), [4, 5, 6], "ids at or below the newest are not appended again")
        XCTAssertEqual(table.dropped, 3)
        XCTAssertEqual(table.seen, 6)
        XCTAssertNil(table.row(3))
        XCTAssertEqual(table.row(5)?.id, 5)
    }

    func testCSVQuoting() {
        var csv = CSVWriter()
        csv.row(["id", "explanation", "note"])
        csv.row(["1", "rule 80, \"strong\" trend\nsecond line", nil])
        csv.row([" padded", "plain", ""])
        XCTAssertEqual(
            String(decoding: csv.bytes, as: UTF8.self),
            "id,explanation,note\r\n1,\"rule 80, \"\"strong\"\" trend\nsecond line\",\r\n\" padded\",plain,\r\n")
    }

    private func trade(_ id: Int64, day: Int64, pnl: String, commission: String, market: Int32, strategy: Int32) -> IndexedRow {
        var row = IndexedRow(id: id, time: day * 86_400_000 + 3_600_000)
        row.pnl = Money.units(pnl)!
        row.commission = Money.units(commission)!
        row.market = market
        row.strategy = strategy
        row.exitReason = Vocabulary.none
        return row
    }

    func testGroupedTotalsAreExact() throws {
        var words = Vocabulary()
        let a = words.code("ETHUSDT"), b = words.code("BTCUSDT"), s = words.code("pullback")
        let rows = [
            trade(1, day: 10, pnl: "0.1", commission: "0.01", market: a, strategy: s),
            trade(2, day: 10, pnl: "0.2", commission: "0.02", market: b, strategy: s),
            trade(3, day: 11, pnl: "-0.3", commission: "0.03", market: a, strategy: s),
            trade(4, day: 12, pnl: "0", commission: "0.04", market: a, strategy: s),
        ]
        let answer = TradeStats.grouped(rows, by: .market, words: words, from: nil, to: nil)
        let data = try XCTUnwrap(answer["data"]?.arrayValue)
        XCTAssertEqual(data.map { $0["market"]?.stringValue }, ["BTCUSDT", "ETHUSDT"])
        let eth = data[1]
        XCTAssertEqual(eth["trades"], 3)
        XCTAssertEqual(eth["wins"], 1)
        XCTAssertEqual(eth["losses"], 2)
        XCTAssertEqual(eth["pnl"]?.doubleValue, -0.2)
        XCTAssertEqual(eth["gross_loss"]?.doubleValue, -0.3)
        XCTAssertEqual(eth["commission"]?.doubleValue, 0.08)
        XCTAssertEqual(try XCTUnwrap(eth["profit_factor"]?.doubleValue), 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(data[0]["profit_factor"], .null, "no loss: no profit factor")
        let totals = try XCTUnwrap(answer["totals"])
        XCTAssertEqual(totals["pnl"]?.doubleValue, 0, "0.1 + 0.2 - 0.3 is exactly 0 in units")
        XCTAssertEqual(totals["commission"]?.doubleValue, 0.1)
        XCTAssertEqual(totals["win_rate"]?.doubleValue, 50)
        let ranged = TradeStats.grouped(rows, by: .strategy, words: words, from: 11 * 86_400_000, to: nil)
        XCTAssertEqual(ranged["totals"]?["trades"], 2)
        XCTAssertEqual(ranged["data"]?.arrayValue?.first?["strategy"], "pullback")
    }

    func testDailyEquityCountsTradesBeforeTheRange() throws {
        var words = Vocabulary()
        let m = words.code("BTCUSDT")
        let rows = [
            trade(1, day: 10, pnl: "100", commission: "1", market: m, strategy: Vocabulary.none),
            trade(2, day: 11, pnl: "-40.5", commission: "1", market: m, strategy: Vocabulary.none),
            trade(3, day: 11, pnl: "10", commission: "1", market: m, strategy: Vocabulary.none),
            trade(4, day: 13, pnl: "5.25", commission: "1", market: m, strategy: Vocabulary.none),
        ]
        let answer = TradeStats.daily(
            rows, initialBalance: Money.units("1000")!, from: 11 * 86_400_000, to: 14 * 86_400_000 - 1)
        let data = try XCTUnwrap(answer["data"]?.arrayValue)
        XCTAssertEqual(data.map { $0["date"]?.stringValue }, [LedgerTime.date(day: 11), LedgerTime.date(day: 13)])
        XCTAssertEqual(data.map { $0["pnl"]?.doubleValue }, [-30.5, 5.25])
        XCTAssertEqual(data.map { $0["equity"]?.doubleValue }, [1069.5, 1074.75])
        XCTAssertEqual(answer["totals"]?["trades"], 3)
        XCTAssertEqual(answer["totals"]?["pnl"]?.doubleValue, -25.25)
    }
}
