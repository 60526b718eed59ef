import MarketDataCore
import XCTest

@testable import Exchanges

/// The hub's policy with no socket: what it opens, sends, reports and schedules.
final class KlineStreamCoreTests: XCTestCase {
    private let binanceEndpoints = ExchangeEndpoints(restURL: "http://x", wsURL: "ws://binance.test:9443")
    private let bybitEndpoints = ExchangeEndpoints(restURL: "http://x", wsURL: "ws://bybit.test/v5/public/spot")

    private func sub(_ exchange: Exchange, _ symbol: String, _ interval: KlineInterval = .oneMinute) -> KlineSubscription {
        KlineSubscription(
            exchange: exchange, endpoints: exchange == .binance ? binanceEndpoints : bybitEndpoints,
            symbol: MarketSymbol(symbol)!, interval: interval)
    }

    private func settings() -> KlineStreamSettings {
        var s = KlineStreamSettings()
        s.backoff = ReconnectBackoff(base: 1, cap: 60, jitter: 0)
        return s
    }

    private func binanceKline(_ symbol: String, openTime: Int64, closed: Bool, high: String = "1.5") -> String {
        """
        {"stream":"\(symbol.lowercased())@kline_1m","data":{"e":"kline","E":1,"s":"\(symbol)","k":{"t":\(openTime),\
        "T":\(openTime + 59_999),"s":"\(symbol)","i":"1m","f":1,"L":2,"o":"1.0","c":"1.2","h":"\(high)","l":"0.9",\
        "v":"10","n":2,"x":\(closed),"q":"12","V":"5","Q":"6","B":"0"}}}
        """
    }

    func testBinanceOpensOneCombinedStreamAndReportsConnectedOnOpen() throws {
        let btc = sub(.binance, "BTC/USDT"), eth = sub(.binance, "eth-usdt", .oneHour)
        var core = try KlineStreamCore([btc, eth, btc], settings: settings())
        XCTAssertEqual(
            core.start(now: 0), [.connect(tag: 0, url: "ws://binance.test:9443/stream?streams=btcusdt@kline_1m/ethusdt@kline_1h")]
        )
        XCTAssertEqual(core.opened(0, now: 1), [.emit(.connected(btc)), .emit(.connected(eth))])
    }

    func testOnlyClosedBarsThatPassQualityAreDelivered() throws {
        let btc = sub(.binance, "BTCUSDT")
        var core = try KlineStreamCore([btc], settings: settings())
        _ = core.start(now: 0)
        _ = core.opened(0, now: 0)
        XCTAssertEqual(core.received(0, binanceKline("BTCUSDT", openTime: 60_000, closed: false), now: 1), [])
        XCTAssertEqual(core.formingUpdates, 1)
        let closed = core.received(0, binanceKline("BTCUSDT", openTime: 60_000, closed: true), now: 2)
        guard case .emit(.closedBar(let s, let k, let at))? = closed.first, closed.count == 1 else {
            return XCTFail("expected one closed bar, got \(closed)")
        }
        XCTAssertEqual(s, btc)
        XCTAssertEqual(k.openTime, 60_000)
        XCTAssertEqual(k.close, 1.2)
        XCTAssertEqual(at, 2)
        XCTAssertEqual(
            core.received(0, binanceKline("BTCUSDT", openTime: 120_000, closed: true, high: "1.1"), now: 3),
            [.emit(.rejected(btc, .highBelowBody, detail: "bar opening at 120000"))])
        guard case .emit(.rejected(btc, .malformed, _))? = core.received(0, #"{"stream":"x","data":{"e":"#, now: 4).first else {
            return XCTFail("truncated JSON is rejected as malformed")
        }
        guard
            case .emit(.rejected(nil, .wrongMarket, _))? = core.received(
                0, binanceKline("ETHUSDT", openTime: 0, closed: true), now: 5
            ).first
        else { return XCTFail("another market's bar is rejected") }
    }

    func testDropThenBackOffThenReconnectReportsConnectedAgain() throws {
        let btc = sub(.binance, "BTCUSDT")
        var core = try KlineStreamCore([btc], settings: settings())
        _ = core.start(now: 0)
        _ = core.opened(0, now: 0)
        XCTAssertEqual(
            core.ended(0, reason: "connection lost", now: 10),
            [
                .emit(.disconnected(btc, reason: "connection lost")),
                .emit(.reconnecting(exchange: .binance, subscriptions: [btc], after: 1, reason: "connection lost")),
            ])
        XCTAssertEqual(core.nextWake(), 11)
        XCTAssertEqual(core.woke(now: 10.5), [])
        XCTAssertEqual(core.woke(now: 11), [.connect(tag: 1, url: "ws://binance.test:9443/stream?streams=btcusdt@kline_1m")])
        // Refused: no second `disconnected`, a longer wait.
        XCTAssertEqual(
            core.ended(1, reason: "cannot connect: 503", now: 11),
            [.emit(.reconnecting(exchange: .binance, subscriptions: [btc], after: 2, reason: "cannot connect: 503"))])
        _ = core.woke(now: 13)
        XCTAssertEqual(core.opened(2, now: 13.1), [.emit(.connected(btc))])
    }

    func testBinanceRenewalOpensTheNewConnectionBeforeClosingTheOld() throws {
        let btc = sub(.binance, "BTCUSDT")
        var s = settings()
        s.binanceRenewal = ConnectionRenewal(lifetime: 100, margin: 10)
        s.heartbeatInterval = 1000
        s.idleTimeout = 1000
        var core = try KlineStreamCore([btc], settings: s)
        _ = core.start(now: 0)
        _ = core.opened(0, now: 0)
        XCTAssertEqual(core.nextWake(), 90)
        XCTAssertEqual(core.woke(now: 90), [.connect(tag: 1, url: "ws://binance.test:9443/stream?streams=btcusdt@kline_1m")])
        // Both connections deliver meanwhile (the sequencer drops the doubled bar).
        XCTAssertEqual(core.received(0, binanceKline("BTCUSDT", openTime: 60_000, closed: true), now: 90.5).count, 1)
        XCTAssertEqual(core.opened(1, now: 91), [.close(tag: 0)], "no new `connected`: the stream never stopped")
        XCTAssertEqual(core.ended(0, reason: "closed", now: 91.1), [], "the old connection's end is expected")
        XCTAssertEqual(core.received(1, binanceKline("BTCUSDT", openTime: 120_000, closed: true), now: 92).count, 1)
        XCTAssertEqual(core.nextWake(), 181)
    }

    func testBinanceServerShutdownRenewsAtOnce() throws {
        let btc = sub(.binance, "BTCUSDT")
        var core = try KlineStreamCore([btc], settings: settings())
        _ = core.start(now: 0)
        _ = core.opened(0, now: 0)
        let url = "ws://binance.test:9443/stream?streams=btcusdt@kline_1m"
        XCTAssertEqual(core.received(0, #"{"e":"serverShutdown","E":1770123456789}"#, now: 5), [.connect(tag: 1, url: url)])
        XCTAssertEqual(core.received(0, #"{"e":"serverShutdown","E":1770123456790}"#, now: 5), [], "one replacement at a time")
        XCTAssertEqual(core.opened(1, now: 6), [.close(tag: 0)])
    }

    func testAFailedRenewalRetriesWhileTheOldConnectionKeepsFlowing() throws {
        let btc = sub(.binance, "BTCUSDT")
        var s = settings()
        s.binanceRenewal = ConnectionRenewal(lifetime: 100, margin: 10)
        s.heartbeatInterval = 1000
        s.idleTimeout = 1000
        var core = try KlineStreamCore([btc], settings: s)
        _ = core.start(now: 0)
        _ = core.opened(0, now: 0)
        _ = core.woke(now: 90)
        XCTAssertEqual(
            core.ended(1, reason: "cannot connect: refused", now: 90),
            [.emit(.reconnecting(exchange: .binance, subscriptions: [btc], after: 1, reason: "cannot connect: refused"))])
        XCTAssertEqual(core.woke(now: 91), [.connect(tag: 2, url: "ws://binance.test:9443/stream?streams=btcusdt@kline_1m")])
        // The exchange cuts the old one before the new one opens: the new one is the reconnect.
        XCTAssertEqual(
            core.ended(0, reason: "connection lost", now: 91.5), [.emit(.disconnected(btc, reason: "connection lost"))])
        XCTAssertEqual(core.opened(2, now: 92), [.emit(.connected(btc))])
    }

    func testHeartbeatsAndSilentConnections() throws {
        let btc = sub(.binance, "BTCUSDT"), eth = sub(.bybit, "ETHUSDT")
        var core = try KlineStreamCore([btc, eth], settings: settings())
        _ = core.start(now: 0)
        _ = core.opened(0, now: 0)
        _ = core.opened(1, now: 0)
        XCTAssertEqual(core.nextWake(), 20)
        XCTAssertEqual(core.woke(now: 20), [.ping(tag: 0), .send(tag: 1, #"{"op":"ping"}"#)])
        core.ponged(0, now: 21)
        _ = core.received(1, #"{"success":true,"ret_msg":"pong","conn_id":"c","op":"ping"}"#, now: 21)
        XCTAssertEqual(core.woke(now: 40), [.ping(tag: 0), .send(tag: 1, #"{"op":"ping"}"#)])
        XCTAssertEqual(
            core.woke(now: 66),
            [.drop(tag: 0, reason: "no message and no pong for 45 s"), .drop(tag: 1, reason: "no message and no pong for 45 s")])
        XCTAssertEqual(core.woke(now: 67), [], "a dropped connection is dropped once")
    }

    func testAnAttemptNotOpenByTheConnectTimeoutIsDropped() throws {
        let btc = sub(.binance, "BTCUSDT")
        var core = try KlineStreamCore([btc], settings: settings())
        _ = core.start(now: 0)
        XCTAssertEqual(core.nextWake(), 10)
        XCTAssertEqual(core.woke(now: 10), [.drop(tag: 0, reason: "cannot connect: no handshake within 10 s")])
        XCTAssertEqual(core.nextWake(), nil)
        XCTAssertEqual(
            core.ended(0, reason: "cannot connect: no handshake within 10 s", now: 10),
            [
                .emit(
                    .reconnecting(
                        exchange: .binance, subscriptions: [btc], after: 1, reason: "cannot connect: no handshake within 10 s"))
            ])
    }

    func testBybitSubscribesTenTopicsPerRequestAndReportsConnectedOnTheAck() throws {
        let symbols = (0..<12).map { sub(.bybit, "C\($0)/USDT", .oneHour) }
        var core = try KlineStreamCore(symbols, settings: settings())
        XCTAssertEqual(core.start(now: 0), [.connect(tag: 0, url: "ws://bybit.test/v5/public/spot")])
        let frames = core.opened(0, now: 0)
        XCTAssertEqual(frames.count, 2)
        XCTAssertEqual(
            frames.last,
            .send(tag: 0, BybitKlines.subscribeFrame(topics: ["kline.60.C10USDT", "kline.60.C11USDT"])))
        let ack = #"{"success":true,"ret_msg":"subscribe","conn_id":"c","op":"subscribe"}"#
        XCTAssertEqual(core.received(0, ack, now: 1), symbols.prefix(10).map { .emit(.connected($0)) })
        XCTAssertEqual(core.received(0, ack, now: 1), symbols.suffix(2).map { .emit(.connected($0)) })
    }

    func testBybitFindsTheRefusedTopicOfAFailedRequestAndReportsItOnce() throws {
        let good = sub(.bybit, "BTCUSDT"), bad = sub(.bybit, "NOPE/USDT")
        var core = try KlineStreamCore([good, bad], settings: settings())
        _ = core.start(now: 0)
        _ = core.opened(0, now: 0)
        let refused = #"{"success":false,"ret_msg":"Invalid topic :[kline.1.NOPEUSDT]","conn_id":"c","op":"subscribe"}"#
        let ok = #"{"success":true,"ret_msg":"subscribe","conn_id":"c","op":"subscribe"}"#
        XCTAssertEqual(
            core.received(0, refused, now: 1),
            [
                .send(tag: 0, BybitKlines.subscribeFrame(topics: ["kline.1.BTCUSDT"])),
                .send(tag: 0, BybitKlines.subscribeFrame(topics: ["kline.1.NOPEUSDT"])),
            ])
        XCTAssertEqual(core.received(0, ok, now: 2), [.emit(.connected(good))])
        XCTAssertEqual(
            core.received(0, refused, now: 2),
            [.emit(.subscribeFailed(bad, reason: "bybit refused the subscribe: Invalid topic :[kline.1.NOPEUSDT]"))])
        XCTAssertEqual(core.received(0, refused, now: 3), [], "an unexpected answer changes nothing")
    }

    func testBinanceStreamsAreSplitOverConnectionsByCountAndPathLength() throws {
        var s = settings()
        s.binanceMaxStreamsPerConnection = 3
        let subs = (0..<7).map { sub(.binance, "C\($0)USDT") }
        let core = try KlineStreamCore(subs, settings: s)
        XCTAssertEqual(core.links.map(\.subscriptions.count), [3, 3, 1])
        s.binanceMaxStreamsPerConnection = 1024
        s.binanceMaxPathBytes = 60
        XCTAssertEqual(try KlineStreamCore(subs, settings: s).links.map(\.subscriptions.count), [2, 2, 2, 1])
    }

    func testAnIntervalTheExchangeLacksIsRefusedAtStart() {
        XCTAssertThrowsError(try KlineStreamCore([sub(.bybit, "BTCUSDT", .eightHours)], settings: settings()))
    }
}
