import JSONCodec
import RedisClient
import XCTest

@testable import Bedrock

/// `markets.list` (`GET /v1/markets`) against a real redis-server: klines streams, and the live
/// ingest's status hashes `<prefix>market_data:{MARKET}:{INTERVAL}` written here as the ingest does.
final class MarketsListTests: RedisTestCase {
    var ledger: Ledger!
    let table = MethodTable()

    override func setUpWithError() throws {
        try super.setUpWithError()
        ledger = try Ledger(settings: LedgerSettings(prefix: "t:"))
        LedgerMethods.register(in: table, ledger: ledger, pool: RedisPool(address: redis.address))
    }

    private func addBar(_ market: String, _ interval: String, openTime: String, close: Double) throws {
        let event =
            #"{"event_type":"kline.closed","market":"\#(market)","interval":"\#(interval)","open_time":"\#(openTime)","close":\#(close)}"#
        _ = try conn.command(["XADD", "t:stream:klines:\(market):\(interval)", "*", "event", event]).checked()
    }

    private func status(_ market: String, _ interval: String, _ fields: [String: String]) throws {
        let key = "t:market_data:\(market):\(interval)"
        _ = try conn.command(["HSET", key] + fields.flatMap { [$0.key, $0.value] }).checked()
        _ = try conn.command(["PEXPIRE", key, "15000"]).checked()
    }

    private func markets() throws -> [JSONValue] {
        guard case .success(let answer) = table.answerWaiting(.marketsList, [:], role: .viewer) else {
            XCTFail("markets.list failed")
            return []
        }
        XCTAssertEqual(answer["total"]?.intValue, Int64(answer["data"]?.arrayValue?.count ?? -1))
        return answer["data"]?.arrayValue ?? []
    }

    func testStreamsAndStatusHashesMerge() throws {
        // A live market with two bars, a replayed one, and one still backfilling its first page.
        try addBar("BTCUSDT", "1h", openTime: "2026-01-01T00:00:00Z", close: 100)
        try addBar("BTCUSDT", "1h", openTime: "2026-01-01T01:00:00Z", close: 101)
        try status(
            "BTCUSDT", "1h",
            ["exchange": "binance", "symbol": "BTC/USDT", "status": "live", "updated_at": "1767229200000", "gateway": "g1"])
        try addBar("ETHUSDT", "15m", openTime: "2026-01-01T00:15:00Z", close: 10)
        try status("SOLUSDT", "1m", ["exchange": "bybit", "symbol": "SOL/USDT", "status": "backfilling", "updated_at": "1"])
        // Keys that are no market's status hash are ignored.
        _ = try conn.command(["HSET", "t:market_data:lease:x", "owner", "g1"]).checked()
        _ = try conn.command(["SET", "t:market_data:NOTAHASH:1h", "x"]).checked()

        let list = try markets()
        XCTAssertEqual(list.compactMap { $0["market"]?.stringValue }, ["BTCUSDT", "ETHUSDT", "SOLUSDT"])

        let btc = list[0]
        XCTAssertEqual(btc["exchange"], "binance")
        XCTAssertEqual(btc["symbol"], "BTC/USDT")
        XCTAssertEqual(btc["status"], "live")
        let btc1h = try XCTUnwrap(btc["intervals"]?.arrayValue?.first)
        XCTAssertEqual(btc1h["interval"], "1h")
        XCTAssertEqual(btc1h["topic"], "klines:BTCUSDT:1h")
        XCTAssertEqual(btc1h["exchange"], "binance")
        XCTAssertEqual(btc1h["symbol"], "BTC/USDT")
        XCTAssertEqual(btc1h["status"], "live")
        XCTAssertEqual(btc1h["bars"]?.intValue, 2)
        XCTAssertEqual(btc1h["last_bar_time"], "2026-01-01T01:00:00Z")
        XCTAssertEqual(btc1h["last_bar"]?["close"]?.doubleValue, 101)
        XCTAssertNotNil(btc1h["last_id"]?.stringValue)

        let eth = try XCTUnwrap(list[1]["intervals"]?.arrayValue?.first)
        XCTAssertEqual(list[1]["status"], "replay")
        XCTAssertEqual(list[1]["exchange"], .null)
        XCTAssertEqual(eth["status"], "replay")
        XCTAssertEqual(eth["exchange"], .null)
        XCTAssertEqual(eth["symbol"], .null)
        XCTAssertEqual(eth["bars"]?.intValue, 1)
        XCTAssertEqual(eth["last_bar_time"], "2026-01-01T00:15:00Z")

        let sol = try XCTUnwrap(list[2]["intervals"]?.arrayValue?.first)
        XCTAssertEqual(list[2]["symbol"], "SOL/USDT")
        XCTAssertEqual(sol["status"], "backfilling")
        XCTAssertEqual(sol["bars"]?.intValue, 0)
        XCTAssertEqual(sol["last_bar_time"], .null)
        XCTAssertEqual(sol["last_bar"], .null)
        XCTAssertEqual(sol["last_id"], .null)
    }

    func testStatusFollowsTheHashAndTheMarketShowsItsMostCurrentInterval() throws {
        try addBar("BTCUSDT", "1h", openTime: "2026-01-01T00:00:00Z", close: 100)
        try addBar("BTCUSDT", "4h", openTime: "2026-01-01T00:00:00Z", close: 100)
        try status("BTCUSDT", "4h", ["exchange": "binance", "symbol": "BTC/USDT", "status": "stale"])
        var btc = try XCTUnwrap(markets().first)
        XCTAssertEqual(btc["intervals"]?.arrayValue?.compactMap { $0["status"]?.stringValue }, ["replay", "stale"])
        XCTAssertEqual(btc["status"], "stale")
        XCTAssertEqual(btc["symbol"], "BTC/USDT")

        try status("BTCUSDT", "1h", ["exchange": "binance", "symbol": "BTC/USDT", "status": "live"])
        btc = try XCTUnwrap(markets().first)
        XCTAssertEqual(btc["status"], "live")

        // The ingest stops: its hashes expire and the bars read as a replay's again.
        _ = try conn.command(["DEL", "t:market_data:BTCUSDT:1h", "t:market_data:BTCUSDT:4h"]).checked()
        btc = try XCTUnwrap(markets().first)
        XCTAssertEqual(btc["status"], "replay")
        XCTAssertEqual(btc["intervals"]?.arrayValue?.compactMap { $0["status"]?.stringValue }, ["replay", "replay"])
    }

    func testOneRoundTripForManyMarkets() throws {
        for i in 0..<40 {
            try addBar("M\(i)USDT", "1h", openTime: "2026-01-01T00:00:00Z", close: 1)
            try status("M\(i)USDT", "1h", ["exchange": "sample", "symbol": "M\(i)/USDT", "status": "live"])
        }
        let before = try conn.command(["INFO", "commandstats"]).checked().string ?? ""
        XCTAssertEqual(try markets().count, 40)
        let after = try conn.command(["INFO", "commandstats"]).checked().string ?? ""
        // Each interval is read once per command (XREVRANGE, XLEN, HMGET), all in one pipeline.
        XCTAssertEqual(Self.calls("xlen", after) - Self.calls("xlen", before), 40)
        XCTAssertEqual(Self.calls("hmget", after) - Self.calls("hmget", before), 40)
        XCTAssertEqual(Self.calls("xrevrange", after) - Self.calls("xrevrange", before), 40)
        XCTAssertEqual(Self.calls("hgetall", after), 0)
    }

    /// `cmdstat_<name>:calls=N,...` from INFO commandstats.
    private static func calls(_ name: String, _ info: String) -> Int {
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_\(name):calls=") {
            return Int(line.dropFirst("cmdstat_\(name):calls=".count).prefix(while: \.isNumber)) ?? 0
        }
        return 0
    }
}
