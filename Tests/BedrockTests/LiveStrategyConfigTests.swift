import TradingCore
import XCTest

@testable import Bedrock

/// `engine.strategies` as objects (parameters, markets) and `arbiter.*`: parsing, environment
/// forms and refusals naming the key.
final class LiveStrategyConfigTests: ConfigFileTestCase {
    func testObjectsWithParamsAndMarketsBesidePlainNames() throws {
        let c = try load(
            #"{"engine":{"strategies":[{"name":"sma_cross","params":{"fast":5,"slow":30},"markets":["btc/usdt","ETH-USDT"]},"oops",{"name":"pullback","markets":["*"]}]}}"#
        )
        let s = EngineSettings(config: c)
        XCTAssertEqual(s.strategies, ["sma_cross", "oops", "pullback"])
        XCTAssertEqual(s.live[0].parameters, ["fast": 5, "slow": 30])
        XCTAssertEqual(s.live[0].markets, ["BTCUSDT", "ETHUSDT"], "markets held canonical")
        XCTAssertNil(s.live[1].markets, "a plain name runs everywhere")
        XCTAssertNil(s.live[2].markets, "\"*\" is every market")
        XCTAssertEqual(s.strategies(on: "BTCUSDT").map(\.name), ["sma_cross", "oops", "pullback"])
        XCTAssertEqual(s.strategies(on: "SOLUSDT").map(\.name), ["oops", "pullback"])
        XCTAssertEqual(s.strategies(on: "eth_usdt").map(\.name), ["sma_cross", "oops", "pullback"])
        let book = try StrategyBook(settings: s, market: "SOLUSDT")
        XCTAssertEqual(book.bars.count, 0)
    }

    func testEnvironmentTakesNamesOrAJSONArray() throws {
        let names = try load("{}", env: ["BEDROCK_ENGINE_STRATEGIES": "sma_cross, oops"])
        XCTAssertEqual(names.engine.strategies, ["sma_cross", "oops"])
        let json = try load(
            "{}", env: ["BEDROCK_ENGINE_STRATEGIES": #"[{"name":"sma_cross","params":{"fast":3},"markets":["BTCUSDT"]}]"#])
        XCTAssertEqual(json.engine.live, [LiveStrategy(name: "sma_cross", parameters: ["fast": 3], markets: ["BTCUSDT"])])
        XCTAssertEqual(try load("{}", env: ["BEDROCK_ENGINE_STRATEGIES": ""]).engine.strategies, [])
    }

    func testRefusalsNameTheKey() {
        let cases = [
            #"{"engine":{"strategies":[{"name":"nope"}]}}"#: "unknown strategy nope",
            #"{"engine":{"strategies":[{"name":"sma_cross","params":{"bogus":1}}]}}"#: "bogus",
            #"{"engine":{"strategies":[{"name":"sma_cross","params":{"fast":"x"}}]}}"#: "fast must be a number",
            #"{"engine":{"strategies":[{"name":"sma_cross","markets":["BAD MARKET"]}]}}"#: "bad market",
            #"{"engine":{"strategies":[{"name":"sma_cross","markets":[]}]}}"#: "non-empty",
            #"{"engine":{"strategies":[{"name":"sma_cross","extra":1}]}}"#: "unknown key extra",
            #"{"engine":{"strategies":["sma_cross",{"name":"sma_cross","markets":["BTCUSDT"]}]}}"#: "listed twice",
            #"{"engine":{"strategies":[1]}}"#: "strategy name or an object",
            #"{"engine":{"strategies":"sma_cross"}}"#: "must be an array",
        ]
        for (json, words) in cases {
            XCTAssertThrowsError(try load(json), json) { error in
                XCTAssertTrue("\(error)".contains("engine.strategies"), "\(error)")
                XCTAssertTrue("\(error)".contains(words), "\(json): \(error)")
            }
        }
        XCTAssertThrowsError(try load("{}", env: ["BEDROCK_ENGINE_STRATEGIES": "[{"])) { error in
            XCTAssertTrue("\(error)".contains("BEDROCK_ENGINE_STRATEGIES"), "\(error)")
        }
    }

    func testArbiterKeys() throws {
        XCTAssertEqual(
            EngineSettings(config: try load("{}")).arbiter,
            ArbiterConfig(ruleWeight: 0.5, mlWeight: 0.3, llmWeight: 0.2, threshold: 60))
        let c = try load(
            #"{"arbiter":{"rule_weight":0.6,"ml_weight":0.4,"llm_weight":0,"threshold":55}}"#,
            env: ["BEDROCK_ARBITER_THRESHOLD": "70"])
        XCTAssertEqual(
            EngineSettings(config: c).arbiter, ArbiterConfig(ruleWeight: 0.6, mlWeight: 0.4, llmWeight: 0, threshold: 70))
        for (json, key) in [
            (#"{"arbiter":{"rule_weight":0}}"#, "arbiter.rule_weight"), (#"{"arbiter":{"ml_weight":2}}"#, "arbiter.ml_weight"),
            (#"{"arbiter":{"llm_weight":-1}}"#, "arbiter.llm_weight"), (#"{"arbiter":{"threshold":101}}"#, "arbiter.threshold"),
            (#"{"arbiter":{"threshold":"60"}}"#, "arbiter.threshold"), (#"{"arbiter":{"bias":1}}"#, "arbiter.bias"),
        ] {
            XCTAssertThrowsError(try load(json), json) { error in XCTAssertTrue("\(error)".contains(key), "\(error)") }
        }
    }
}
