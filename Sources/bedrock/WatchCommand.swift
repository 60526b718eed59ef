import ArgumentParser
import Bedrock
import Foundation
import JSONCodec
import Transport

/// `bedrock watch`: a terminal client printing a topic's events as JSON lines (SPEC §2).
/// Reconnects with backoff and resumes from the last event id it printed, so nothing is missed.
/// A `gap` frame (events trimmed before the gateway could read them) is printed as a line of its
/// own and announced on stderr.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print a topic's events as they arrive (one JSON object per line on stdout).")

    @Option(help: "Gateway WebSocket URL, e.g. ws://127.0.0.1:8080/ws")
    var url: String

    @Option(help: "JWT (see `bedrock token`).")
    var token: String

    @Option(
        help:
            "Topic: signals, portfolio, risk, opportunities or klines:MARKET:INTERVAL (any market spelling: klines:btc-usdt:1h is klines:BTCUSDT:1h)."
    )
    var topic: String

    @Option(help: "Start after this stream id (\"0\" for everything retained, \"$\" for live only).")
    var since: String?

    @Option(name: .customLong("max-events"), help: "Exit 0 after printing this many events.")
    var maxEvents: Int?

    @Flag(help: "Accept a self-signed TLS certificate (testing only).")
    var insecure = false

    func validate() throws {
        guard WebSocketClient.Endpoint(url) != nil else {
            throw ValidationError("--url must be ws://host:port/path or wss://…, got \(url)")
        }
        guard Topic(topic) != nil else { throw ValidationError("--topic: unknown topic \(topic)") }
    }

    func run() throws {
        let endpoint = WebSocketClient.Endpoint(url)!
        let state = WatchState(since: since)
        var backoff = 0.5
        while true {
            let client = WebSocketClient(endpoint: endpoint, insecure: insecure)
            client.send(JSONCodec.encodeString(["type": "auth", "token": .string(token)]))
            var fatal: String?
            client.run { event in
                switch event {
                case .opened:
                    note("connected to \(url)")
                case .message(let text):
                    for line in text.split(separator: "\n") {
                        if let stop = handle(String(line), client: client, state: state) { fatal = stop; client.stop() }
                    }
                case .closed(let code, let reason):
                    note("connection closed (\(code)\(reason.isEmpty ? "" : ": " + reason))")
                    if code == 4401 || code == 4403 { fatal = "refused by the gateway (\(code) \(reason))" }
                case .failed(let why):
                    note("cannot connect: \(why)")
                }
            }
            if let fatal {
                if fatal == "done" { return }
                note(fatal)
                throw ExitCode(1)
            }
            if state.receivedSomething { backoff = 0.5 }
            state.receivedSomething = false
            let pause = backoff * Double.random(in: 0.8...1.2)
            note(String(format: "reconnecting in %.1f s%@", pause, state.since.map { " (resuming after \($0))" } ?? ""))
            Thread.sleep(forTimeInterval: pause)
            backoff = min(backoff * 2, 10)
        }
    }

    /// Handle one frame; returns "done" or a fatal message to stop.
    private func handle(_ line: String, client: WebSocketClient, state: WatchState) -> String? {
        guard let frame = try? JSONCodec.parse(line), let type = frame["type"]?.stringValue else { return nil }
        state.receivedSomething = true
        switch type {
        case "welcome":
            var subscribe: JSONObject = ["type": "subscribe", "id": 1, "topic": .string(topic)]
            if let since = state.since { subscribe["since"] = .string(since) }
            client.send(JSONCodec.encodeString(.object(subscribe)))
        case "subscribed":
            let recovered = frame["recovered"]?.boolValue ?? false
            note(
                "subscribed to \(frame["topic"]?.stringValue ?? topic) at \(frame["position"]?.stringValue ?? "?")\(state.since != nil && !recovered ? " — events were trimmed; not everything since your position could be replayed" : "")"
            )
        case "event":
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
            if let id = frame["id"]?.stringValue { state.since = id }
            state.printed += 1
            if let maxEvents, state.printed >= maxEvents { return "done" }
        case "gap":
            // On stdout too, in order with the events, so a consumer of the lines sees the hole.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
            note(
                "GAP in \(frame["topic"]?.stringValue ?? topic): events after \(frame["after"]?.stringValue ?? "?") and before \(frame["next"]?.stringValue ?? "?") were trimmed before they could be delivered; reload state"
            )
        case "ping":
            client.send(#"{"type":"pong"}"#)
        case "error":
            let code = frame["error_code"]?.stringValue ?? "?"
            note("error \(code): \(frame["message"]?.stringValue ?? "")")
            if code == "FORBIDDEN" || (code == "BAD_REQUEST" && frame["id"] != nil) {
                return "\(code): \(frame["message"]?.stringValue ?? "")"
            }
        default:
            break
        }
        return nil
    }

    private func note(_ text: String) {
        FileHandle.standardError.write(Data("bedrock watch: \(text)\n".utf8))
    }
}

/// What `watch` remembers across reconnects.
final class WatchState {
    var since: String?
    var printed = 0
    var receivedSomething = false
    init(since: String?) { self.since = since == "$" ? nil : since }
}
