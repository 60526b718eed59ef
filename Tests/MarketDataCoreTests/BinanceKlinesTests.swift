import Foundation
import MarketDataCore
import XCTest

/// Binance payloads, from the examples of the official documentation.
final class BinanceKlinesTests: XCTestCase {
    /// https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#klinecandlestick-data
    private let restExample = """
        [
          [
            1499040000000,
            "0.01634790",
            "0.80000000",
            "0.01575800",
            "0.01577100",
            "148976.11427815",
            1499644799999,
            "2434.19055334",
            308,
            "1756.87402397",
            "28.46694368",
            "0"
          ]
        ]
        """

    /// https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#klinecandlestick-streams-for-utc
    private let streamExample = """
        {
          "e": "kline",
          "E": 1672515782136,
          "s": "BNBBTC",
          "k": {
            "t": 1672515780000,
            "T": 1672515839999,
            "s": "BNBBTC",
            "i": "1m",
            "f": 100,
            "L": 200,
            "o": "0.0010",
            "c": "0.0020",
            "h": "0.0025",
            "l": "0.0015",
            "v": "1000",
            "n": 100,
            "x": false,
            "q": "1.0000",
            "V": "500",
            "Q": "0.500",
            "B": "123456"
          }
        }
        """

    func testTheDocumentedRESTRowDecodes() throws {
        let page = try BinanceKlines.decodeHistory(
            restExample, symbol: "BNBBTC", interval: .oneWeek, nowMillis: 1_499_644_800_000)
        let expected = ExchangeKline(
            symbol: "BNBBTC", interval: .oneWeek, openTime: 1_499_040_000_000, open: 0.0163479, high: 0.8,
            low: 0.015758, close: 0.015771, volume: 148976.11427815, closed: true)
        XCTAssertEqual(try page.get(), [expected])
        XCTAssertNil(BarQuality.rejection(of: expected))
    }

    func testAPageKeepsItsGoodRowsAndSetsABrokenOneAside() throws {
        let broken = restExample.replacingOccurrences(of: "\"0.80000000\"", with: "\"NaN\"")
        let body = "[" + broken.dropFirst().dropLast() + "," + restExample.dropFirst().dropLast() + "]"
        let page = try BinanceKlines.decodePage(body, symbol: "BNBBTC", interval: .oneWeek, nowMillis: .max).get()
        XCTAssertEqual(page.klines.count, 1)
        XCTAssertEqual(page.malformedRows, [KlineDecodeError("high (column 2) must be a decimal string")])
        XCTAssertThrowsError(try BinanceKlines.decodeHistory(body, symbol: "BNBBTC", interval: .oneWeek, nowMillis: .max))
    }

    func testARowWhoseCloseTimeIsNotPastIsTheFormingBar() throws {
        let page = try BinanceKlines.decodeHistory(
            restExample, symbol: "BNBBTC", interval: .oneWeek, nowMillis: 1_499_644_799_999)
        XCTAssertEqual(try page.get().map(\.closed), [false])
    }

    func testTheDocumentedErrorBodyIsAnAPIError() throws {
        let body = #"{"code": -1121, "msg": "Invalid symbol."}"#
        let answer = try BinanceKlines.decodeHistory(body, symbol: "NOPE", interval: .oneHour, nowMillis: 0)
        XCTAssertEqual(answer, .failure(.binance(code: -1121, message: "Invalid symbol.")))
    }

    func testTheDocumentedStreamEventDecodesAndItsPricesAreRejected() throws {
        let message = try BinanceKlines.decodeStream(streamExample)
        let kline = ExchangeKline(
            symbol: "BNBBTC", interval: .oneMinute, openTime: 1_672_515_780_000, open: 0.001, high: 0.0025,
            low: 0.0015, close: 0.002, volume: 1000, closed: false)
        XCTAssertEqual(message, .kline(kline))
        // The documentation's sample has its low above its open: a bar the quality rule rejects.
        XCTAssertEqual(BarQuality.rejection(of: kline), .lowAboveBody)
    }

    func testTheCombinedStreamWrapperAndRequestAnswers() throws {
        let combined = #"{"stream":"bnbbtc@kline_1m","data":\#(streamExample)}"#
        XCTAssertEqual(try BinanceKlines.decodeStream(combined), try BinanceKlines.decodeStream(streamExample))
        XCTAssertEqual(try BinanceKlines.decodeStream(#"{"result": null, "id": 1}"#), .response(id: 1))
        XCTAssertEqual(BinanceKlines.streamName(symbol: "BTCUSDT", interval: .oneHour), "btcusdt@kline_1h")
    }

    func testStrictFieldTypes() {
        let cases: [(String, String)] = [
            (streamExample.replacingOccurrences(of: #""o": "0.0010""#, with: #""o": 0.0010"#), "k.o must be a decimal string"),
            (streamExample.replacingOccurrences(of: #""o": "0.0010""#, with: #""o": "1e-3""#), "k.o must be a decimal string"),
            (streamExample.replacingOccurrences(of: #""c": "0.0020""#, with: #""c": "nan""#), "k.c must be a decimal string"),
            (streamExample.replacingOccurrences(of: #""x": false"#, with: #""x": "false""#), "k.x must be a boolean"),
            (
                streamExample.replacingOccurrences(of: #""t": 1672515780000"#, with: #""t": "1672515780000""#),
                "k.t must be an integer"
            ),
            (streamExample.replacingOccurrences(of: #""i": "1m""#, with: #""i": "7m""#), "k.i is not a kline interval"),
            (streamExample.replacingOccurrences(of: #""e": "kline""#, with: #""e": "trade""#), "e must be \"kline\""),
            (streamExample.replacingOccurrences(of: #""v": "1000","#, with: ""), "k.v is missing"),
            ("[1, 2", "not JSON"),
        ]
        for (payload, message) in cases {
            XCTAssertThrowsError(try BinanceKlines.decodeStream(payload), message) { error in
                XCTAssertEqual((error as? KlineDecodeError)?.message, message)
            }
        }
        let rowCases: [(String, String)] = [
            (restExample.replacingOccurrences(of: #""0.80000000""#, with: "0.8"), "high (column 2) must be a decimal string"),
            (
                restExample.replacingOccurrences(of: "1499040000000", with: #""1499040000000""#),
                "open time (column 0) must be an integer"
            ),
            (#"{"klines": []}"#, "body must be an array of kline rows"),
            ("[[1499040000000]]", "a kline row must be an array of 12 fields"),
        ]
        for (payload, message) in rowCases {
            XCTAssertThrowsError(try BinanceKlines.decodeHistory(payload, symbol: "X", interval: .oneWeek, nowMillis: 0)) {
                error in
                XCTAssertEqual((error as? KlineDecodeError)?.message, message)
            }
        }
    }
}
