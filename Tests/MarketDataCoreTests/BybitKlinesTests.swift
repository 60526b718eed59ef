import Foundation
import MarketDataCore
import XCTest

/// Bybit v5 payloads, from the examples of the official documentation.
final class BybitKlinesTests: XCTestCase {
    /// https://bybit-exchange.github.io/docs/v5/market/kline (the response example)
    private let restExample = """
        {
            "retCode": 0,
            "retMsg": "OK",
            "result": {
                "symbol": "BTCUSD",
                "category": "inverse",
                "list": [
                    [
                        "1670608800000",
                        "17071",
                        "17073",
                        "17027",
                        "17055.5",
                        "268611",
                        "15.74462667"
                    ],
                    [
                        "1670605200000",
                        "17071.5",
                        "17071.5",
                        "17061",
                        "17071",
                        "4177",
                        "0.24469757"
                    ],
                    [
                        "1670601600000",
                        "17086.5",
                        "17088",
                        "16978",
                        "17071.5",
                        "6356",
                        "0.37288112"
                    ]
                ]
            },
            "retExtInfo": {},
            "time": 1672025956592
        }
        """

    /// https://bybit-exchange.github.io/docs/v5/websocket/public/kline (the response example)
    private let streamExample = """
        {
            "topic": "kline.5.BTCUSDT",
            "data": [
                {
                    "start": 1672324800000,
                    "end": 1672325099999,
                    "interval": "5",
                    "open": "16649.5",
                    "close": "16677",
                    "high": "16677",
                    "low": "16608",
                    "volume": "2.081",
                    "turnover": "34666.4005",
                    "confirm": false,
                    "timestamp": 1672324988882
                }
            ],
            "ts": 1672324988882,
            "type": "snapshot"
        }
        """

    func testTheDocumentedRESTPageDecodesOldestFirst() throws {
        let page = try BybitKlines.decodeHistory(restExample, interval: .oneHour, nowMillis: 1_672_025_956_592).get()
        XCTAssertEqual(page.map(\.openTime), [1_670_601_600_000, 1_670_605_200_000, 1_670_608_800_000])
        XCTAssertEqual(
            page.last,
            ExchangeKline(
                symbol: "BTCUSD", interval: .oneHour, openTime: 1_670_608_800_000, open: 17071, high: 17073,
                low: 17027, close: 17055.5, volume: 268611, closed: true))
        XCTAssertTrue(page.allSatisfy { BarQuality.rejection(of: $0) == nil })
    }

    func testAPageKeepsItsGoodRowsAndSetsABrokenOneAside() throws {
        let body = restExample.replacingOccurrences(of: "\"1670608800000\"", with: "\"-1\"")
        let page = try BybitKlines.decodePage(body, interval: .oneHour, nowMillis: .max).get()
        XCTAssertEqual(page.klines.map(\.openTime), [1_670_601_600_000, 1_670_605_200_000])
        XCTAssertEqual(page.malformedRows, [KlineDecodeError("startTime (column 0) must be a string of digits")])
        XCTAssertThrowsError(try BybitKlines.decodeHistory(body, interval: .oneHour, nowMillis: .max))
    }

    func testTheNewestRowIsFormingUntilItsIntervalHasPassed() throws {
        let page = try BybitKlines.decodeHistory(restExample, interval: .oneHour, nowMillis: 1_670_608_800_000 + 3_599_999).get()
        XCTAssertEqual(page.map(\.closed), [true, true, false])
    }

    func testRetCodesAreTypedErrors() throws {
        let limited = #"{"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1672025956592}"#
        XCTAssertEqual(
            try BybitKlines.decodeHistory(limited, interval: .oneHour, nowMillis: 0),
            .failure(.bybitRateLimited(message: "Too many visits!")))
        let unknown = #"{"retCode":10001,"retMsg":"Not supported symbols","result":{},"retExtInfo":{},"time":1672025956592}"#
        XCTAssertEqual(
            try BybitKlines.decodeHistory(unknown, interval: .oneHour, nowMillis: 0),
            .failure(.bybit(retCode: 10001, message: "Not supported symbols")))
    }

    func testTheDocumentedStreamPushDecodes() throws {
        XCTAssertEqual(
            try BybitKlines.decodeStream(streamExample),
            .klines([
                ExchangeKline(
                    symbol: "BTCUSDT", interval: .fiveMinutes, openTime: 1_672_324_800_000, open: 16649.5, high: 16677,
                    low: 16608, close: 16677, volume: 2.081, closed: false)
            ]))
        let closed = streamExample.replacingOccurrences(of: #""confirm": false"#, with: #""confirm": true"#)
        guard case .klines(let klines) = try BybitKlines.decodeStream(closed) else { return XCTFail("not klines") }
        XCTAssertEqual(klines.map(\.closed), [true])
    }

    /// https://bybit-exchange.github.io/docs/v5/ws/connect (subscribe and ping answers)
    func testTheDocumentedAcksAndPong() throws {
        let ack =
            #"{"success": true, "ret_msg": "", "conn_id": "2324d924-aa4d-45b0-a858-7b8be29ab52b", "req_id": "10001", "op": "subscribe"}"#
        XCTAssertEqual(try BybitKlines.decodeStream(ack), .subscribed(success: true, message: ""))
        let refused =
            #"{"success": false, "ret_msg": "error:handler not found,topic:kline.7.BTCUSDT", "conn_id": "c1", "op": "subscribe"}"#
        XCTAssertEqual(
            try BybitKlines.decodeStream(refused),
            .subscribed(success: false, message: "error:handler not found,topic:kline.7.BTCUSDT"))
        let pong = #"{"success": true, "ret_msg": "pong", "conn_id": "0970e817-426e-429a-a679-ff7f55e0b16a", "op": "ping"}"#
        XCTAssertEqual(try BybitKlines.decodeStream(pong), .pong)
        let otherPong = #"{"req_id": "test", "op": "pong", "args": ["1675418560633"], "conn_id": "cfcb4ocsvfriu23r3er0-1b"}"#
        XCTAssertEqual(try BybitKlines.decodeStream(otherPong), .pong)
        XCTAssertThrowsError(try BybitKlines.decodeStream(#"{"op": "auth", "success": true, "ret_msg": ""}"#))
        XCTAssertThrowsError(try BybitKlines.decodeStream(#"{"op": "subscribe", "success": "yes", "ret_msg": ""}"#))
    }

    func testFramesAndTopics() throws {
        XCTAssertEqual(try BybitKlines.topic(symbol: "BTCUSDT", interval: .oneHour), "kline.60.BTCUSDT")
        XCTAssertThrowsError(try BybitKlines.topic(symbol: "BTCUSDT", interval: .eightHours))
        XCTAssertEqual(
            BybitKlines.subscribeFrame(topics: ["kline.60.BTCUSDT"]), #"{"op":"subscribe","args":["kline.60.BTCUSDT"]}"#)
        XCTAssertEqual(BybitKlines.pingFrame, #"{"op":"ping"}"#)
    }

    func testStrictFieldTypes() {
        let cases: [(String, String)] = [
            (
                streamExample.replacingOccurrences(of: #""open": "16649.5""#, with: #""open": 16649.5"#),
                "data[0].open must be a decimal string"
            ),
            (
                streamExample.replacingOccurrences(of: #""confirm": false"#, with: #""confirm": 0"#),
                "data[0].confirm must be a boolean"
            ),
            (
                streamExample.replacingOccurrences(of: #""start": 1672324800000"#, with: #""start": "1672324800000""#),
                "data[0].start must be an integer"
            ),
            (
                streamExample.replacingOccurrences(of: #""interval": "5""#, with: #""interval": "15""#),
                "data[0].interval must match the topic"
            ),
            (
                streamExample.replacingOccurrences(of: "kline.5.BTCUSDT", with: "kline.7.BTCUSDT"),
                "topic must be kline.<interval>.<SYMBOL>"
            ),
            (
                streamExample.replacingOccurrences(of: "kline.5.BTCUSDT", with: "tickers.BTCUSDT"),
                "topic must be kline.<interval>.<SYMBOL>"
            ),
        ]
        for (payload, message) in cases {
            XCTAssertThrowsError(try BybitKlines.decodeStream(payload), message) { error in
                XCTAssertEqual((error as? KlineDecodeError)?.message, message)
            }
        }
        let rowCases: [(String, String)] = [
            (
                restExample.replacingOccurrences(of: #""1670608800000""#, with: "1670608800000"),
                "startTime (column 0) must be a string of digits"
            ),
            (restExample.replacingOccurrences(of: #""17073""#, with: "17073"), "high (column 2) must be a decimal string"),
            (
                #"{"retCode":0,"retMsg":"OK","result":{"symbol":"BTCUSDT","category":"spot","list":[["1670608800000","1","1","1","1","1"]]}}"#,
                "a kline row must be an array of 7 strings"
            ),
            (restExample.replacingOccurrences(of: #""retCode": 0"#, with: #""retCode": "0""#), "retCode must be an integer"),
        ]
        for (payload, message) in rowCases {
            XCTAssertThrowsError(try BybitKlines.decodeHistory(payload, interval: .oneHour, nowMillis: 0)) { error in
                XCTAssertEqual((error as? KlineDecodeError)?.message, message)
            }
        }
    }
}
