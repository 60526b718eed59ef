import Exchanges
import Foundation
import GatewayCore
import HTTPClient
import JSONCodec
import MarketDataCore
import PythonFakes

/// A fake exchange of tests/integration/fakes (`python -m fakes binance|bybit`) as a child
/// process (`PythonFakeProcess`), with the exchange's endpoints and clock controls; stopped when
/// this object goes away. It needs the `websockets` package of tests/integration/requirements.txt.
final class FakeExchangeProcess: Sendable {
    /// `binance` or `bybit`.
    let name: String
    /// REST base URL.
    let httpURL: String
    /// WebSocket base URL (Bybit's spot path included).
    let wsURL: String
    private let fake: PythonFakeProcess

    /// `python -m fakes <name> <arguments>`.
    init(_ name: String, arguments: [String] = []) throws {
        self.name = name
        fake = try PythonFakeProcess(name, arguments: arguments, needs: "the websockets package")
        httpURL = fake.httpURL
        wsURL = try fake.url("ws_url")
    }

    /// A fake of `exchange` whose clock starts at `nowMillis` and moves only when told to.
    convenience init(_ exchange: Exchange, nowMillis: Int64, arguments: [String] = []) throws {
        try self.init(exchange.rawValue, arguments: ["--now-ms", String(nowMillis)] + arguments)
    }

    /// The exchange it plays.
    var exchange: Exchange { Exchange(rawValue: name)! }

    /// Its REST and WebSocket endpoints.
    var endpoints: ExchangeEndpoints { ExchangeEndpoints(restURL: httpURL, wsURL: wsURL) }

    /// `GET /__control/<method>?args`: the `result` of the call.
    @discardableResult
    func control(_ method: String, _ arguments: [String: String] = [:]) throws -> JSONValue {
        try fake.control(method, arguments)
    }

    /// The fake clock, ms.
    func nowMillis() throws -> Int64 {
        guard case .int(let now) = try control("now_ms") else {
            throw PythonFakeProcess.Failure(message: "now_ms is not an integer")
        }
        return now
    }

    /// Moves the fake's clock on by `ms`.
    func advance(ms: Int64) { _ = try? control("advance", ["ms": String(ms)]) }

    /// Stops the fake (at most 5 s, then killed).
    func stop() { fake.stop() }
}

/// A waiter on test time: a wait moves the test's clock and the fake's clock on together to its
/// deadline (threads waiting for the same deadline move them once), so nothing sleeps and the
/// fake's windows, `Retry-After` and bans follow the client's pacing.
final class FakeTimeWaiter: HistoryWaiter, @unchecked Sendable {
    let clock: ManualClock
    let fake: FakeExchangeProcess?
    private let lock = NSLock()

    init(clock: ManualClock, fake: FakeExchangeProcess?) {
        self.clock = clock
        self.fake = fake
    }

    func wait(until deadline: Double, now: Double) {
        lock.withLock {
            let ms = Int64(((deadline - clock.read().monotonic) * 1000).rounded(.up))
            guard ms > 0 else { return }
            clock.advance(Double(ms) / 1000)
            fake?.advance(ms: ms)
        }
    }

    func cancel() {}
}

/// The events a client reported, in order (any thread).
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [HistoryEvent] = []

    func append(_ event: HistoryEvent) { lock.withLock { items.append(event) } }
    var events: [HistoryEvent] { lock.withLock { items } }
}
