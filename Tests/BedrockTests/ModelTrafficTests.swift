import XCTest

@testable import Bedrock

/// The A/B deployment policy: shares always summing to 100, proportional rescaling by the largest
/// remainder, retirement at 0, the first version's 100, and the deterministic pick.
final class ModelTrafficTests: XCTestCase {
    func testFirstVersionGetsEverythingWhateverWasAsked() {
        let change = ModelTraffic().deploying("m@1", percentage: 10)
        XCTAssertEqual(change.traffic.shares, ["m@1": 100])
        XCTAssertEqual(change.granted, 100)
        XCTAssertNotNil(change.note)
        XCTAssertNil(ModelTraffic().deploying("m@1", percentage: 100).note)
    }

    func testSecondVersionTakesItsShareAndTheRestIsRescaled() {
        let change = ModelTraffic(shares: ["m@1": 100]).deploying("m@2", percentage: 10)
        XCTAssertEqual(change.traffic.shares, ["m@1": 90, "m@2": 10])
        XCTAssertEqual(change.granted, 10)
        XCTAssertNil(change.note)
        XCTAssertEqual(change.retired, [])
    }

    func testLargestRemainderKeepsTheSumExactly100() {
        // 3 × 33/33/34 rescaled to fill 85: 28.05 / 28.05 / 28.9 → 28, 28, 29.
        let t = ModelTraffic(shares: ["a@1": 33, "a@2": 33, "a@3": 34])
        let change = t.deploying("b@1", percentage: 15)
        XCTAssertEqual(change.traffic.shares, ["a@1": 28, "a@2": 28, "a@3": 29, "b@1": 15])
        XCTAssertEqual(change.traffic.total, 100)
        // Ties in the remainder go to the earlier name@version.
        XCTAssertEqual(ModelTraffic.rescale(["x@1": 1, "x@2": 1, "x@3": 1], to: 100), ["x@1": 34, "x@2": 33, "x@3": 33])
        for p in 0...100 {
            let c = ModelTraffic(shares: ["a@1": 7, "a@2": 41, "a@3": 52]).deploying("a@2", percentage: p)
            XCTAssertEqual(c.traffic.total, c.traffic.shares.isEmpty ? 0 : 100, "p=\(p)")
            XCTAssertTrue(c.traffic.shares.values.allSatisfy { $0 > 0 }, "p=\(p)")
        }
    }

    func testRedeployingChangesOnlyThatVersionAndRescalesTheOthers() {
        let change = ModelTraffic(shares: ["m@1": 90, "m@2": 10]).deploying("m@2", percentage: 50)
        XCTAssertEqual(change.traffic.shares, ["m@1": 50, "m@2": 50])
    }

    func testZeroRetiresAndTheOthersFillTheRest() {
        let change = ModelTraffic(shares: ["m@1": 60, "m@2": 30, "m@3": 10]).deploying("m@1", percentage: 0)
        XCTAssertEqual(change.traffic.shares, ["m@2": 75, "m@3": 25])
        XCTAssertEqual(change.retired, ["m@1"])
        let last = ModelTraffic(shares: ["m@1": 100]).deploying("m@1", percentage: 0)
        XCTAssertEqual(last.traffic.shares, [:])
        XCTAssertEqual(last.retired, ["m@1"])
    }

    func testZeroForAVersionWithNoTrafficChangesNothing() {
        let t = ModelTraffic(shares: ["m@1": 100])
        let change = t.deploying("m@2", percentage: 0)
        XCTAssertEqual(change.traffic, t)
        XCTAssertEqual(change.retired, [], "a candidate that never had traffic is not retired")
        XCTAssertTrue(change.unchanged)
        XCTAssertEqual(change.note, "m@2 has no traffic: nothing changed")
        XCTAssertTrue(ModelTraffic().deploying("m@1", percentage: 0).unchanged)
        XCTAssertFalse(t.deploying("m@1", percentage: 0).unchanged)
    }

    func testAVersionRescaledToZeroIsRetired() {
        let change = ModelTraffic(shares: ["m@1": 99, "m@2": 1]).deploying("m@3", percentage: 99)
        XCTAssertEqual(change.traffic.shares, ["m@1": 1, "m@3": 99])
        XCTAssertEqual(change.retired, ["m@2"])
        let all = ModelTraffic(shares: ["m@1": 50, "m@2": 50]).deploying("m@3", percentage: 100)
        XCTAssertEqual(all.traffic.shares, ["m@3": 100])
        XCTAssertEqual(all.retired, ["m@1", "m@2"])
    }

    func testFNV1a64KnownValues() {
        // Reference values of FNV-1a 64 (the published test vectors).
        XCTAssertEqual(ModelTraffic.fnv1a64(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(ModelTraffic.fnv1a64("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(ModelTraffic.fnv1a64("foobar"), 0x8594_4171_f739_67e8)
        XCTAssertEqual(ModelTraffic.bucket("foobar"), Int(0x8594_4171_f739_67e8 as UInt64 % 100))
    }

    func testPickUsesCumulativeBandsInNameOrder() {
        let t = ModelTraffic(shares: ["m@2": 30, "m@1": 70])
        XCTAssertEqual(t.pick(bucket: 0), "m@1")
        XCTAssertEqual(t.pick(bucket: 69), "m@1")
        XCTAssertEqual(t.pick(bucket: 70), "m@2")
        XCTAssertEqual(t.pick(bucket: 99), "m@2")
        XCTAssertNil(ModelTraffic().pick(bucket: 5))
        let key = "pullback|BTCUSDT|1h|2026-01-01T00:00:00Z"
        let expected = ModelTraffic.bucket(key) < 70 ? "m@1" : "m@2"
        XCTAssertEqual(t.pick(strategy: "pullback", market: "BTCUSDT", interval: "1h", barTime: "2026-01-01T00:00:00Z"), expected)
        // Over many signals each version gets about its share.
        var counts: [String: Int] = [:]
        for hour in 0..<10_000 {
            counts[t.pick(strategy: "oops", market: "ETHUSDT", interval: "1h", barTime: "bar-\(hour)")!, default: 0] += 1
        }
        XCTAssertEqual(Double(counts["m@1"]!) / 10_000, 0.7, accuracy: 0.03)
    }
}
