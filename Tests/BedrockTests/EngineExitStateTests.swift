import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// The live engine rebuilds each position's triple exit from its stored fields on every bar; this
/// checks that the rebuilt exit behaves exactly like one `TripleExit` carried across the bars (as
/// in the backtester), on random paths, for longs and shorts.
final class EngineExitStateTests: XCTestCase {
    struct Rng {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    func round8(_ x: Double) -> Double { (x * 1e8).rounded() / 1e8 }

    func testRebuiltExitMatchesACarriedExit() {
        var rng = Rng(state: 42)
        var checkedBars = 0, exits = 0, trailingExits = 0
        for path in 0..<400 {
            let side: Side = path % 2 == 0 ? .buy : .sell
            let entry = 100.0, r = 1 + rng.next() * 3
            let stop = side == .buy ? entry - r : entry + r
            let target = side == .buy ? entry + r * (2 + rng.next() * 4) : entry - r * (2 + rng.next() * 4)
            let distance = 0.5 + rng.next() * 3
            var truth = TripleExit(side: side, entryPrice: entry, stop: stop, target: target, trailDistance: distance)
            // What the ledger stores: trailing stop (only ever tightened) and the armed flag.
            var storedTrail: Double?
            var storedArmed = false
            var price = entry
            for _ in 0..<200 {
                let open = price + (rng.next() - 0.5) * 0.8
                let close = open + (rng.next() - 0.5) * 2 + (side == .buy ? 0.05 : -0.05)
                let high = max(open, close) + rng.next(), low = min(open, close) - rng.next()
                price = close
                var p: JSONObject = [
                    "initial_stop_price": .double(stop), "stop_loss_price": .double(stop),
                    "profit_target_price": .double(target), "trailing_distance": .double(distance),
                    "trailing_armed": .bool(storedArmed),
                ]
                if let t = storedTrail { p["trailing_stop_price"] = .double(t) }
                var rebuilt = BarPipeline.exitState(p, side: side, entry: entry)
                checkedBars += 1
                let expected = truth.check(open: open, high: high, low: low)
                let got = rebuilt.check(open: open, high: high, low: low)
                XCTAssertEqual(got?.reason, expected?.reason, "path \(path)")
                XCTAssertEqual(got?.price ?? 0, expected?.price ?? 0, accuracy: 1e-6, "path \(path)")
                if let expected {
                    exits += 1
                    if expected.reason == .trailingStop { trailingExits += 1 }
                    break
                }
                truth.closeBar(high: high, low: low)
                rebuilt.closeBar(high: high, low: low)
                XCTAssertEqual(rebuilt.isArmed, truth.isArmed)
                XCTAssertEqual(rebuilt.isTrailing, truth.isTrailing)
                XCTAssertEqual(rebuilt.stop ?? 0, truth.stop ?? 0, accuracy: 1e-6)
                if truth.isTrailing, let s = truth.stop { storedTrail = round8(s) }
                storedArmed = truth.isArmed
            }
        }
        XCTAssertGreaterThan(exits, 100)
        XCTAssertGreaterThan(trailingExits, 10, "the paths should exercise the trailing stop")
        XCTAssertGreaterThan(checkedBars, 1000)
    }
}
