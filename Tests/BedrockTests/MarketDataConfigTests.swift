import Exchanges
import Foundation
import MarketDataCore
import XCTest

@testable import Bedrock

/// `market_data.*` and `exchanges.*`: markets from the file or `BEDROCK_MARKET_DATA_MARKETS`,
/// endpoint overrides, and every mistake refused with the key and the reason.
final class MarketDataConfigTests: XCTestCase {
    private var dir = ""
    private let secret = "0123456789abcdef-config-test-secret"

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "bedrock-md-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    private func load(_ json: String? = nil, env: [String: String] = [:]) throws -> GatewayConfig {
        var path: String?
        if let json {
            path = dir + "/c.json"
            try json.write(toFile: path!, atomically: true, encoding: .utf8)
        }
        var environment = env
        environment["BEDROCK_JWT_SECRET"] = secret
        return try GatewayConfig.load(.init(configFile: path, dataDir: dir + "/data", environment: environment))
    }

    private func error(_ json: String? = nil, env: [String: String] = [:]) -> String {
        do {
            _ = try load(json, env: env)
            return "accepted"
        } catch { return "\(error)" }
    }

    func testNothingIsIngestedByDefault() throws {
        let c = try load()
        XCTAssertEqual(c.marketData.markets, [])
        XCTAssertEqual(c.marketData.backfillBars, 1000)
        XCTAssertEqual(c.marketData.retainBars, 100_000)
        XCTAssertEqual(c.marketData.staleAfterIntervals, 2)
        XCTAssertEqual(c.marketData.endpoints[.binance], ExchangeEndpoints.production(.binance))
    }

    func testMarketsFromTheFileAndAnySpelling() throws {
        let c = try load(
            #"{"market_data":{"markets":[{"exchange":"binance","symbol":"btc-usdt","interval":"1h"},"#
                + #"{"exchange":"bybit","symbol":"ETH_USDT","interval":"15m"}],"retain_bars":5000},"#
                + #""exchanges":{"binance":{"rest_url":"http://127.0.0.1:9000/","ws_url":"ws://127.0.0.1:9001"}}}"#)
        XCTAssertEqual(c.marketData.markets.map(\.topic), ["klines:BTCUSDT:1h", "klines:ETHUSDT:15m"])
        XCTAssertEqual(c.marketData.markets.map(\.symbol.display), ["BTC/USDT", "ETH/USDT"])
        XCTAssertEqual(c.marketData.markets.map(\.source), [.exchange(.binance), .exchange(.bybit)])
        XCTAssertEqual(c.marketData.retainBars, 5000)
        XCTAssertEqual(c.marketData.endpoints[.binance]?.restURL, "http://127.0.0.1:9000")
        XCTAssertEqual(c.marketData.endpoints[.binance]?.wsURL, "ws://127.0.0.1:9001")
        XCTAssertEqual(c.marketData.endpoints[.bybit], ExchangeEndpoints.production(.bybit))
    }

    func testTheEnvironmentListReplacesTheFileAndEmptyTurnsIngestOff() throws {
        let file = #"{"market_data":{"markets":[{"exchange":"binance","symbol":"BTC/USDT","interval":"1h"}]}}"#
        let c = try load(
            file,
            env: [
                "BEDROCK_MARKET_DATA_MARKETS": "sample:BTC/USDT:1h, bybit:SOLUSDT:1m",
                "BEDROCK_EXCHANGES_BYBIT_WS_URL": "ws://localhost:7000/v5/public/spot",
            ])
        XCTAssertEqual(c.marketData.markets.map(\.source), [.sample, .exchange(.bybit)])
        XCTAssertEqual(c.marketData.markets.map(\.topic), ["klines:BTCUSDT:1h", "klines:SOLUSDT:1m"])
        XCTAssertEqual(c.marketData.endpoints[.bybit]?.wsURL, "ws://localhost:7000/v5/public/spot")
        XCTAssertEqual(try load(file, env: ["BEDROCK_MARKET_DATA_MARKETS": ""]).marketData.markets, [])
    }

    func testMistakesAreRefusedWithTheReason() {
        let markets = "BEDROCK_MARKET_DATA_MARKETS"
        XCTAssertTrue(error(env: [markets: "kraken:BTC/USDT:1h"]).contains("unknown exchange \"kraken\""))
        XCTAssertTrue(error(env: [markets: "binance:BTC/USDT"]).contains("is not exchange:symbol:interval"))
        XCTAssertTrue(error(env: [markets: "binance:BTC USDT:1h"]).contains("bad symbol"))
        XCTAssertTrue(error(env: [markets: "binance:BTC/USDT:2m"]).contains("unknown interval \"2m\""))
        XCTAssertTrue(error(env: [markets: "bybit:BTC/USDT:8h"]).contains("8h"), error(env: [markets: "bybit:BTC/USDT:8h"]))
        XCTAssertTrue(error(env: [markets: "sample:BTC/USDT:1M"]).contains("fixed-length"))
        XCTAssertTrue(
            error(env: [markets: "binance:BTC/USDT:1h,bybit:btcusdt:15m"]).contains("fed by both binance and bybit"))
        XCTAssertTrue(error(env: [markets: "binance:BTC/USDT:1h,binance:BTCUSDT:1h"]).contains("listed twice"))
        XCTAssertTrue(
            error(#"{"market_data":{"markets":[{"exchange":"binance","symbol":"BTCUSDT"}]}}"#).contains("market_data.markets"))
        XCTAssertTrue(error(env: ["BEDROCK_EXCHANGES_BINANCE_REST_URL": "ftp://x"]).contains("exchanges.binance.rest_url"))
        XCTAssertTrue(error(#"{"exchanges":{"kraken":{"rest_url":"http://x"}}}"#).contains("unknown key"))
        XCTAssertTrue(error(env: ["BEDROCK_MARKET_DATA_SAMPLE_BAR_S": "0"]).contains("market_data.sample_bar_s"))
    }
}
