import Foundation
import HTTPClient
import JSONCodec

/// A fake exchange of tests/integration/fakes (`python -m fakes binance|bybit`) run as a child
/// process on a free loopback port, driven through its HTTP control API; stopped when this
/// object goes away. The Python is `BEDROCK_FAKES_PYTHON`, else the repository's test virtualenv
/// (`.build-py/venv`, made by `make test-deps`), else `python3` (which needs `websockets`).
final class KlineStreamFake {
    let httpURL: String
    let wsURL: String
    private let process: Process
    private let input = Pipe()
    private let client: HTTPClient

    struct StartFailure: Error { let message: String }

    init(_ exchange: String, arguments: [String] = []) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let venv = root.appendingPathComponent(".build-py/venv/bin/python").path
        let python =
            ProcessInfo.processInfo.environment["BEDROCK_FAKES_PYTHON"]
            ?? (FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-m", "fakes", exchange] + arguments
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
            throw StartFailure(message: "\(python) -m fakes did not start (does it have the websockets package?)")
        }
        httpURL = http
        wsURL = ws
        client = try HTTPClient()
    }

    /// `GET /__control/<method>?args`: the `result` of the call.
    @discardableResult
    func control(_ method: String, _ arguments: [String: String] = [:]) throws -> JSONValue {
        let query = arguments.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        let url = "\(httpURL)/__control/\(method)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let response = try client.send(HTTPClient.Request(url: url))
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

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}
