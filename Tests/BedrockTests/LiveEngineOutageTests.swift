import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// The engine rides out a Redis crash (kill -9 of redis-server, restart on the same AOF data):
/// it reconnects, reprocesses its own pending bars and ends with the same signals as a run
/// without the outage, none duplicated.
final class LiveEngineOutageTests: LiveEngineTestCase {
    func testRedisKilledMidRunLosesAndDuplicatesNothing() throws {
        let s = series(1000, seed: 9)
        try publish(s, prefix: "ref:")
        let reference = try engine("ref:", consumer: "r")
        reference.start()
        try waitUntil("reference run") { try drained("ref:", total: 1000) }
        reference.stop()

        try publish(s, prefix: "t:")
        let e = try engine("t:", consumer: "a")
        e.start()
        defer { e.stop() }
        try waitUntil("a few bars") { e.metrics.count("bars_processed") >= 150 }
        redis.kill()
        usleep(300_000)
        try redis.start()
        conn = try redis.connect()
        try waitUntil("drained after the outage", seconds: 60) { try drained("t:", total: 1000) }
        XCTAssertGreaterThan(e.metrics.count("errors"), 0, "the engine saw the outage")
        let live = try signals("t:"), expected = try signals("ref:")
        XCTAssertEqual(
            live.map { key($0) + " " + ($0["final_decision"]?.stringValue ?? "") },
            expected.map { key($0) + " " + ($0["final_decision"]?.stringValue ?? "") })
        XCTAssertEqual(try conn.command(["XLEN", "t:stream:signals"]).integer, Int64(live.count))
        let positions = try ledger("t:").positions(market: nil, status: nil, offset: 0, limit: 10_000, on: conn).data
        let bySignal = positions.compactMap { $0["signal_id"]?.intValue }
        XCTAssertEqual(Set(bySignal).count, bySignal.count, "a signal opens at most one position")
    }

    func testADeletedAndRecreatedStreamIsPickedUpAgain() throws {
        let s = series(120, seed: 4)
        try publish(s.prefix(60), prefix: "t:")
        let e = try engine("t:", consumer: "a")
        e.start()
        defer { e.stop() }
        try waitUntil("first half") { try drained("t:", total: 60) }
        let key = StreamBar.streamKey(prefix: "t:", market: market, interval: interval)
        _ = try conn.command(["DEL", key]).checked()
        try publish(s.slice(60..<120), prefix: "t:")
        try waitUntil("second half after the stream came back") { e.metrics.count("bars_processed") >= 120 }
        XCTAssertEqual(try conn.command(["GET", "t:engine:lease:" + key]).string, "a", "its own lease taken again at once")
    }
}
