import Exchanges
import Foundation
import GatewayCore
import HTTPClient
import MarketDataCore

/// A fake exchange of tests/integration/fakes (`python -m fakes binance|bybit`) as a child
/// process on a free loopback port, with its control API (`/__control/<method>`); stopped when
/// this object goes away. Python: `BEDROCK_TEST_PYTHON`, else the repository's
/// `.build-py/venv/bin/python` (what `make test` installs), else `python3`; it needs the
/// `websockets` package of tests/integration/requirements.txt.
/// `@unchecked Sendable`: control calls share one HTTP client under `controlLock`.
final class FakeExchangeProcess: @unchecked Sendable {
    let exchange: Exchange
    let restURL: String
    private let process: Process
    private let stdin = Pipe()
    private let control = try! HTTPClient()
    private let controlLock = NSLock()

    init(_ exchange: Exchange, nowMillis: Int64, arguments: [String] = []) throws {
        self.exchange = exchange
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let venv = repo.appendingPathComponent(".build-py/venv/bin/python").path
        let python =
            ProcessInfo.processInfo.environment["BEDROCK_TEST_PYTHON"]
            ?? (FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-m", "fakes", exchange.rawValue, "--now-ms", String(nowMillis)] + arguments
        process.currentDirectoryURL = repo.appendingPathComponent("tests/integration")
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = stdin
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
            let url = object["http_url"] as? String
        else {
            process.terminate()
            throw StartFailure(
                message: "python -m fakes did not start (\(python); set BEDROCK_TEST_PYTHON to a python with websockets)")
        }
        restURL = url
    }

    var endpoints: ExchangeEndpoints { ExchangeEndpoints(restURL: restURL, wsURL: "ws://unused") }

    /// Calls a control method and answers its `result` (JSON-decoded).
    @discardableResult
    func call(_ method: String, _ arguments: [String: String] = [:]) throws -> Any? {
        let query = arguments.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        let response = try controlLock.withLock { () throws -> HTTPClient.Response in
            try control.send(.init(url: "\(restURL)/__control/\(method)?\(query)"))
        }
        guard response.status == 200, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        else { throw StartFailure(message: "control \(method) answered \(response.status): \(response.text)") }
        return object["result"]
    }

    /// Moves the fake's clock on by `ms`.
    func advance(ms: Int64) { _ = try? call("advance", ["ms": String(ms)]) }

    func stop() {
        guard process.isRunning else { return }
        try? stdin.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    struct StartFailure: Error { let message: String }
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
