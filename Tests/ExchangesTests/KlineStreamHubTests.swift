import Exchanges
import Foundation
import JSONCodec
import MarketDataCore
import Synchronization
import XCTest

/// Every event a hub reported, for a test to wait on (deadline polls, no fixed sleeps).
final class KlineEventLog: Sendable {
    private let events = Mutex<[KlineStreamEvent]>([])

    func append(_ event: KlineStreamEvent) { events.withLock { $0.append(event) } }

    var all: [KlineStreamEvent] { events.withLock { $0 } }

    /// Waits until `predicate` holds over the events (or fails the test after `timeout` s).
    @discardableResult
    func wait(
        _ what: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line,
        until predicate: ([KlineStreamEvent]) -> Bool
    ) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(all) { return true }
            usleep(2_000)
        }
        XCTFail("timed out waiting for \(what); events: \(all.suffix(12))", file: file, line: line)
        return false
    }

    func closedBars() -> [ExchangeKline] {
        all.compactMap { if case .closedBar(_, let k, _) = $0 { return k } else { return nil } }
    }

    func count(_ match: (KlineStreamEvent) -> Bool) -> Int { all.filter(match).count }
}

func isConnected(_ e: KlineStreamEvent) -> Bool { if case .connected = e { return true } else { return false } }
func isDisconnected(_ e: KlineStreamEvent) -> Bool { if case .disconnected = e { return true } else { return false } }
func isReconnecting(_ e: KlineStreamEvent) -> Bool { if case .reconnecting = e { return true } else { return false } }

/// The hub against the fake exchanges (tests/integration/fakes) over real sockets.
final class KlineStreamHubTests: XCTestCase {
    private var fake: FakeExchangeProcess!
    private var hub: KlineStreamHub?
    private let log = KlineEventLog()

    override func tearDown() {
        hub?.stop()
        hub = nil
        fake?.stop()
        fake = nil
    }

    private func quickSettings() -> KlineStreamSettings {
        var s = KlineStreamSettings()
        s.backoff = ReconnectBackoff(base: 0.05, cap: 0.4, jitter: 0)
        return s
    }

    private func subscription(_ exchange: Exchange, _ symbol: String, _ interval: KlineInterval = .oneMinute) -> KlineSubscription
    {
        KlineSubscription(
            exchange: exchange, endpoints: ExchangeEndpoints(restURL: fake.httpURL, wsURL: fake.wsURL),
            symbol: MarketSymbol(symbol)!, interval: interval)
    }

    private func startHub(_ subscriptions: [KlineSubscription], settings: KlineStreamSettings? = nil) throws {
        let hub = KlineStreamHub(settings: settings ?? quickSettings())
        let log = self.log
        try hub.start(subscriptions) { log.append($0) }
        self.hub = hub
    }

    /// Open time of the bar forming at the fake's now.
    private func formingOpenTime(_ interval: Int64 = 60_000) throws -> Int64 {
        let now = try fake.nowMillis()
        return now - now % interval
    }

    func testFormingUpdatesThenTheCloseGiveExactlyOneClosedBar() throws {
        fake = try FakeExchangeProcess("binance")
        try startHub([subscription(.binance, "BTC/USDT")])
        log.wait("connected") { $0.contains(where: isConnected) }
        let openTime = try formingOpenTime()
        try fake.control("step_bar", ["symbol": "BTCUSDT", "interval": "1m", "updates": "3"])
        log.wait("the closed bar") { _ in !log.closedBars().isEmpty }
        XCTAssertEqual(hub!.formingUpdatesDropped, 3, "the updates came before the close, on the same socket")
        XCTAssertEqual(log.closedBars().first?.openTime, openTime)
        XCTAssertEqual(log.closedBars().first?.symbol, "BTCUSDT")
        XCTAssertEqual(log.closedBars().first?.interval, .oneMinute)
        // The next bar's close comes after anything else of the first bar: still one bar each.
        try fake.control("step_bar", ["symbol": "BTCUSDT", "interval": "1m", "updates": "2"])
        log.wait("the next closed bar") { _ in log.closedBars().count == 2 }
        XCTAssertEqual(log.closedBars().map(\.openTime), [openTime, openTime + 60_000])
        XCTAssertEqual(hub!.formingUpdatesDropped, 5)
    }

    func testASocketDroppedMidBarReconnectsAndTheCloseStillArrives() throws {
        fake = try FakeExchangeProcess("binance")
        try startHub([subscription(.binance, "BTCUSDT")])
        log.wait("connected") { $0.contains(where: isConnected) }
        let openTime = try formingOpenTime()
        try fake.control("advance", ["ms": "20000"])
        XCTAssertEqual(try fake.control("drop_connections"), .int(1))
        log.wait("connected again") { $0.filter(isConnected).count == 2 }
        let kinds = log.all.map { e -> String in
            switch e {
            case .connected: return "connected"
            case .disconnected: return "disconnected"
            case .reconnecting: return "reconnecting"
            default: return "other"
            }
        }
        XCTAssertEqual(kinds, ["connected", "disconnected", "reconnecting", "connected"])
        try fake.control("step_bar", ["symbol": "BTCUSDT", "interval": "1m", "updates": "1"])
        log.wait("the closed bar") { _ in log.closedBars().map(\.openTime) == [openTime] }
    }

    func testRefusedConnectionsBackOffLongerEachTime() throws {
        fake = try FakeExchangeProcess("binance")
        try fake.control("refuse_connections", ["refuse": "true"])
        try startHub([subscription(.binance, "BTCUSDT")])
        log.wait("five attempts") { $0.filter(isReconnecting).count >= 5 }
        let delays = log.all.compactMap { e -> Double? in
            if case .reconnecting(_, _, let after, let reason) = e {
                XCTAssertTrue(reason.hasPrefix("cannot connect"), reason)
                return after
            }
            return nil
        }
        for (delay, expected) in zip(delays, [0.05, 0.1, 0.2, 0.4, 0.4]) { XCTAssertEqual(delay, expected, accuracy: 1e-9) }
        XCTAssertEqual(log.count(isDisconnected), 0, "a stream that never flowed is not reported disconnected")
        try fake.control("refuse_connections", ["refuse": "false"])
        log.wait("connected") { $0.contains(where: isConnected) }
    }

    func testBinanceRenewalReplacesTheConnectionWithNoBarLost() throws {
        fake = try FakeExchangeProcess("binance")
        var settings = quickSettings()
        settings.binanceRenewal = ConnectionRenewal(lifetime: 0.6, margin: 0.2)
        try startHub([subscription(.binance, "BTCUSDT")], settings: settings)
        log.wait("connected") { $0.contains(where: isConnected) }
        var expected: [Int64] = []
        let started = try fake.control("handshakes")
        for _ in 0..<12 {
            expected.append(try formingOpenTime())
            try fake.control("step_bar", ["symbol": "BTCUSDT", "interval": "1m", "updates": "1"])
            usleep(150_000)
        }
        log.wait("every bar") { _ in Set(log.closedBars().map(\.openTime)).isSuperset(of: expected) }
        guard case .int(let first) = started, case .int(let connects) = try fake.control("handshakes") else {
            return XCTFail("ws_connects is an integer")
        }
        XCTAssertGreaterThanOrEqual(connects - first, 3, "renewed every ~0.4 s")
        XCTAssertEqual(log.count(isConnected), 1, "a renewal is not a reconnect")
        XCTAssertEqual(log.count(isDisconnected), 0)
        // Renewals go on every 0.4 s, each with a moment of overlap: poll for the settled state.
        let deadline = Date().addingTimeInterval(3)
        var followers = try fake.control("subscribed", ["symbol": "BTCUSDT", "interval": "1m"])
        while followers != .int(1) && Date() < deadline {
            usleep(5_000)
            followers = try fake.control("subscribed", ["symbol": "BTCUSDT", "interval": "1m"])
        }
        XCTAssertEqual(followers, .int(1), "each old connection is closed")
    }

    func testBinancePingsAreAnsweredWithPongs() throws {
        fake = try FakeExchangeProcess("binance")
        try startHub([subscription(.binance, "BTCUSDT")])
        log.wait("connected") { $0.contains(where: isConnected) }
        XCTAssertEqual(try fake.control("ping_all"), .int(1))
    }

    func testBinanceHeartbeatPingsKeepAQuietConnection() throws {
        fake = try FakeExchangeProcess("binance")
        var settings = quickSettings()
        settings.heartbeatInterval = 0.05
        settings.idleTimeout = 0.2
        try startHub([subscription(.binance, "BTCUSDT")], settings: settings)
        log.wait("connected") { $0.contains(where: isConnected) }
        // Nothing is pushed while the fake's clock stands still: only the pongs to the hub's
        // ping frames keep it from being dropped as silent.
        usleep(1_000_000)
        XCTAssertEqual(log.count(isDisconnected), 0, "\(log.all)")
        XCTAssertEqual(try fake.control("handshakes"), .int(1))
    }

    func testMalformedMessagesAndBadBarsAreRejectedAndLaterBarsStillArrive() throws {
        fake = try FakeExchangeProcess("binance")
        let btc = subscription(.binance, "BTCUSDT")
        try startHub([btc])
        log.wait("connected") { $0.contains(where: isConnected) }
        try fake.control("send_raw", ["text": #"{"stream":"btcusdt@kline_1m","data":{"e":"kline","k":"#])
        log.wait("the malformed message rejected") {
            $0.contains { if case .rejected(btc, .malformed, _) = $0 { return true } else { return false } }
        }
        let bad = try formingOpenTime()
        try fake.control("corrupt_bar", ["symbol": "BTCUSDT", "interval": "1m", "open_time": "\(bad)", "high": "0.5"])
        try fake.control("step_bar", ["symbol": "BTCUSDT", "interval": "1m", "updates": "0"])
        log.wait("the bad bar rejected") {
            $0.contains { if case .rejected(btc, .highBelowBody, _) = $0 { return true } else { return false } }
        }
        let good = try formingOpenTime()
        try fake.control("step_bar", ["symbol": "BTCUSDT", "interval": "1m", "updates": "0"])
        log.wait("the good bar") { _ in log.closedBars().map(\.openTime) == [good] }
        XCTAssertEqual(log.count(isConnected), 1, "the connection was kept throughout")
    }

    func testAnOversizedMessageDropsTheConnectionWhichComesBack() throws {
        fake = try FakeExchangeProcess("binance")
        var settings = quickSettings()
        settings.maxMessageBytes = 64 * 1024
        try startHub([subscription(.binance, "BTCUSDT")], settings: settings)
        log.wait("connected") { $0.contains(where: isConnected) }
        try fake.control("send_raw", ["text": "x", "repeat": "1000000"])
        log.wait("dropped") {
            $0.contains {
                if case .disconnected(_, let reason) = $0 { return reason.contains("longer than 65536") } else { return false }
            }
        }
        log.wait("connected again") { $0.filter(isConnected).count == 2 }
    }

    func testBybitSubscribesPingsAndDeliversClosedBars() throws {
        fake = try FakeExchangeProcess("bybit")
        var settings = quickSettings()
        settings.heartbeatInterval = 0.1
        try startHub([subscription(.bybit, "BTC/USDT")], settings: settings)
        log.wait("subscribed") { $0.contains(where: isConnected) }
        XCTAssertEqual(try fake.control("subscribed", ["symbol": "BTCUSDT", "interval": "1"]), .int(1))
        let openTime = try formingOpenTime()
        try fake.control("step_bar", ["symbol": "BTCUSDT", "interval": "1", "updates": "2"])
        log.wait("the closed bar") { _ in log.closedBars().map(\.openTime) == [openTime] }
        let deadline = Date().addingTimeInterval(5)
        var pings: Int64 = 0
        while Date() < deadline {
            if case .int(let n) = try fake.control("pings_received") { pings = n }
            if pings >= 3 { break }
            usleep(20_000)
        }
        XCTAssertGreaterThanOrEqual(pings, 3, "{\"op\":\"ping\"} every heartbeat")
        XCTAssertEqual(log.count(isDisconnected), 0, "answered pings keep the connection")
    }

    func testBybitReportsAnUnknownSymbolOnceAndKeepsTheOthers() throws {
        fake = try FakeExchangeProcess("bybit")
        let good = subscription(.bybit, "BTCUSDT"), bad = subscription(.bybit, "NOPE/USDT")
        try startHub([good, bad])
        log.wait("the refusal") {
            $0.contains {
                if case .subscribeFailed(bad, let reason) = $0 { return reason.contains("NOPEUSDT") } else { return false }
            }
        }
        log.wait("the good one connected") { $0.contains(.connected(good)) }
        usleep(300_000)
        XCTAssertEqual(log.count { if case .subscribeFailed = $0 { return true } else { return false } }, 1, "no retry loop")
        XCTAssertFalse(log.all.contains(.connected(bad)))
        let openTime = try formingOpenTime()
        try fake.control("step_bar", ["symbol": "BTCUSDT", "interval": "1", "updates": "0"])
        log.wait("the good market's bar") { _ in log.closedBars().map(\.openTime) == [openTime] }
    }

    func testASilentConnectionIsDroppedAndReconnected() throws {
        fake = try FakeExchangeProcess("bybit")
        try fake.control("answer_pings", ["answer": "false"])
        var settings = quickSettings()
        settings.heartbeatInterval = 0.1
        settings.idleTimeout = 0.35
        try startHub([subscription(.bybit, "BTCUSDT")], settings: settings)
        log.wait("dropped as silent") {
            $0.contains {
                if case .disconnected(_, let reason) = $0 {
                    return reason.hasPrefix("no message and no pong")
                } else {
                    return false
                }
            }
        }
        log.wait("connected again") { $0.filter(isConnected).count >= 2 }
    }

    func testAHandshakeThatNeverCompletesTimesOut() throws {
        // A listening socket that never accepts: the TCP connect succeeds (the backlog), the
        // WebSocket handshake is never answered.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 8) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        XCTAssertTrue(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        var settings = quickSettings()
        settings.connectTimeout = 1
        let hub = KlineStreamHub(settings: settings)
        self.hub = hub
        let log = self.log
        let started = Date()
        try hub.start([
            KlineSubscription(
                exchange: .binance,
                endpoints: ExchangeEndpoints(restURL: "http://127.0.0.1:\(port)", wsURL: "ws://127.0.0.1:\(port)"),
                symbol: MarketSymbol("BTCUSDT")!, interval: .oneMinute)
        ]) { log.append($0) }
        log.wait("the attempt given up") { $0.contains(where: isReconnecting) }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.9)
        XCTAssertEqual(log.count(isConnected), 0)
    }

    func testStopIsPromptAndJoinsTheThread() throws {
        fake = try FakeExchangeProcess("binance")
        try startHub([subscription(.binance, "BTCUSDT"), subscription(.binance, "ETHUSDT", .oneHour)])
        log.wait("connected") { $0.filter(isConnected).count == 2 }
        let started = Date()
        hub?.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5)
        let after = log.all.count
        try fake.control("step_bar", ["symbol": "BTCUSDT", "interval": "1m", "updates": "0"])
        usleep(100_000)
        XCTAssertEqual(log.all.count, after, "no event after stop()")
        XCTAssertEqual(try fake.control("subscribed", ["symbol": "BTCUSDT", "interval": "1m"]), .int(0), "sockets closed")
    }

    func testStopIsPromptWhileConnectionsAreRefused() throws {
        fake = try FakeExchangeProcess("binance")
        try fake.control("refuse_connections", ["refuse": "true"])
        try startHub([subscription(.binance, "BTCUSDT")])
        log.wait("a refusal") { $0.contains(where: isReconnecting) }
        let started = Date()
        hub?.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5)
    }
}
