import XCTest

@testable import Bedrock

/// `engine.*` configuration keys: defaults, file values, environment overrides, refusals.
final class EngineConfigTests: ConfigFileTestCase {
    func testDefaults() throws {
        let s = EngineSettings(config: try load("{}"))
        XCTAssertEqual(s.strategies, ["pullback", "oops"])
        XCTAssertEqual(s.historyBars, 500)
        XCTAssertEqual(s.groupName, "bedrock:engine")
        XCTAssertEqual(s.startFrom, "0")
        XCTAssertEqual(s.claimIdleMillis, 30_000)
        XCTAssertEqual(s.leaseMillis, 10_000)
        XCTAssertTrue(s.barClock)
        XCTAssertFalse(s.tradeHistory, "history bars warm up without trading unless asked")
    }

    func testTradeHistoryFromFileAndEnvironment() throws {
        XCTAssertTrue(EngineSettings(config: try load(#"{"engine":{"trade_history":true}}"#)).tradeHistory)
        XCTAssertFalse(EngineSettings(config: try load(#"{"engine":{"trade_history":false}}"#)).tradeHistory)
        for (text, expected) in [("true", true), ("TRUE", true), ("1", true), ("false", false), ("0", false)] {
            let c = try load(#"{"engine":{"trade_history":false}}"#, env: ["BEDROCK_ENGINE_TRADE_HISTORY": text])
            XCTAssertEqual(EngineSettings(config: c).tradeHistory, expected, text)
        }
        for json in [#"{"engine":{"trade_history":"true"}}"#, #"{"engine":{"trade_history":1}}"#] {
            XCTAssertThrowsError(try load(json), json) { error in
                XCTAssertTrue("\(error)".contains("engine.trade_history: must be true or false"), "\(error)")
            }
        }
        XCTAssertThrowsError(try load("{}", env: ["BEDROCK_ENGINE_TRADE_HISTORY": "yes"])) { error in
            XCTAssertTrue("\(error)".contains("BEDROCK_ENGINE_TRADE_HISTORY"), "\(error)")
        }
    }

    func testFileAndEnvironment() throws {
        let c = try load(
            #"{"redis":{"prefix":"x:"},"engine":{"strategies":["sma_cross"],"history_bars":200,"clock":"wall","start_from":"$"}}"#,
            env: ["BEDROCK_ENGINE_CONSUMER": "gw-1", "BEDROCK_ENGINE_CLAIM_IDLE_MS": "5000"])
        let s = EngineSettings(config: c)
        XCTAssertEqual(s.strategies, ["sma_cross"])
        XCTAssertEqual(s.historyBars, 200)
        XCTAssertFalse(s.barClock)
        XCTAssertEqual(s.startFrom, "$")
        XCTAssertEqual(s.consumer, "gw-1")
        XCTAssertEqual(s.claimIdleMillis, 5000)
        XCTAssertEqual(s.groupName, "x:engine")
        XCTAssertEqual(try load(#"{"engine":{"strategies":[]}}"#).engine.strategies, [], "an empty list disables the engine")
    }

    func testRefusals() {
        for json in [
            #"{"engine":{"strategies":["nope"]}}"#, #"{"engine":{"history_bars":1}}"#,
            #"{"engine":{"clock":"moon"}}"#, #"{"engine":{"start_from":"1-0"}}"#, #"{"engine":{"bogus":1}}"#,
        ] {
            XCTAssertThrowsError(try load(json), json) { error in
                XCTAssertTrue("\(error)".contains("engine."), "\(error)")
            }
        }
    }
}
