import Exchanges
import Foundation
import GatewayCore
import HTTPClient
import JSONCodec
import MarketDataCore

/// A fake exchange of tests/integration/fakes (`python -m fakes binance|bybit`) as a child
/// process on a free loopback port, driven through its HTTP control API (`/__control/<method>`);
/// stopped when this object goes away. Python: `BEDROCK_TEST_PYTHON`, else the repository's
/// `.build-py/venv/bin/python` (what `make test` installs), else `python3`; it needs the
/// `websockets` package of tests/integration/requirements.txt.
/// `@unchecked Sendable`: control calls share one HTTP client under `controlLock`.
final class FakeExchangeProcess: @unchecked Sendable {
    /// `binance` or `bybit`.
    let name: String
    /// REST base URL.
    let httpURL: String
    /// WebSocket base URL (Bybit's spot path included).
    let wsURL: String
    private let process: Process
    private let input = Pipe()
    private let client = try! HTTPClient()
    private let controlLock = NSLock()

    struct StartFailure: Error { let message: String }

    /// `python -m fakes <name> <arguments>`.
    init(_ name: String, arguments: [String] = []) throws {
        self.name = name
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let venv = root.appendingPathComponent(".build-py/venv/bin/python").path
        let python =
            ProcessInfo.processInfo.environment["BEDROCK_TEST_PYTHON"]
            ?? (FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-m", "fakes", name] + arguments
        process.currentDirectoryURL = root.appendingPathComponent("tests/integration")
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let value = try? JSONCodec.parse(String(decoding: line, as: UTF8.self)),
            let http = value["http_url"]?.stringValue, let ws = value["ws_url"]?.stringValue
        else {
            process.terminate()
            throw StartFailure(
                message: "\(python) -m fakes did not start (set BEDROCK_TEST_PYTHON to a python with the websockets package)")
        }
        httpURL = http
        wsURL = ws
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
        let query = arguments.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        let url = "\(httpURL)/__control/\(method)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let response = try controlLock.withLock { () throws -> HTTPClient.Response in
            try client.send(HTTPClient.Request(url: url))
        }
        let value = try JSONCodec.parse(response.text)
        guard response.status == 200, let result = value["result"] else {
            throw StartFailure(message: "control \(method) answered \(response.status): \(response.text.prefix(300))")
        }
        return result
    }

    /// The fake clock, ms.
    func nowMillis() throws -> Int64 {
        guard case .int(let now) = try control("now_ms") else { throw StartFailure(message: "now_ms is not an integer") }
        return now
    }

    /// Moves the fake's clock on by `ms`.
    func advance(ms: Int64) { _ = try? control("advance", ["ms": String(ms)]) }

    /// Closes its stdin (the fake's stop signal), waits up to 5 s for it to exit, then kills it:
    /// a fake that does not stop never hangs the test run.
    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
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
