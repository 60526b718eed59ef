import Foundation
import HTTPClient
import JSONCodec
import Synchronization

/// The fake OpenAI-compatible server of tests/integration/fakes (`python -m fakes llm`) as a child
/// process on a free loopback port, scripted through its HTTP control API (`/__control/<method>`);
/// stopped when this object goes away. Python: `BEDROCK_TEST_PYTHON`, else the repository's
/// `.build-py/venv/bin/python` (what `make test` installs), else `python3` (the fake needs only
/// the standard library).
/// `@unchecked Sendable`: `Process` and `Pipe` are not marked Sendable; the test thread starts and
/// stops the process, and control calls share one HTTP client under its mutex.
final class FakeLLMProcess: @unchecked Sendable {
    /// What a client takes as `base_url` (`…/v1`).
    let baseURL: String
    /// `http://127.0.0.1:<port>`.
    let httpURL: String
    private let process: Process
    private let input = Pipe()
    private let client = Mutex(try! HTTPClient())

    struct Failure: Error { let message: String }

    /// `python -m fakes llm <arguments>`.
    init(arguments: [String] = []) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let venv = root.appendingPathComponent(".build-py/venv/bin/python").path
        let python =
            ProcessInfo.processInfo.environment["BEDROCK_TEST_PYTHON"]
            ?? (FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-m", "fakes", "llm"] + arguments
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
            let base = value["base_url"]?.stringValue, let http = value["http_url"]?.stringValue
        else {
            process.terminate()
            throw Failure(message: "\(python) -m fakes llm did not start (set BEDROCK_TEST_PYTHON)")
        }
        baseURL = base
        httpURL = http
    }

    /// `GET /__control/<method>?args`: the `result` of the call.
    @discardableResult
    func control(_ method: String, _ arguments: [String: String] = [:]) throws -> JSONValue {
        let query = arguments.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        let url = "\(httpURL)/__control/\(method)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let response = try client.withLock { http throws -> HTTPClient.Response in
            try http.send(HTTPClient.Request(url: url))
        }
        let value = try JSONCodec.parse(response.text)
        guard response.status == 200, let result = value["result"] else {
            throw Failure(message: "control \(method) answered \(response.status): \(response.text.prefix(300))")
        }
        return result
    }

    /// The recorded requests, oldest first (`{method, path, headers, body}`).
    func requests() throws -> [JSONValue] { try control("requests").arrayValue ?? [] }

    /// How many completion requests arrived.
    func requestCount() throws -> Int64 { try control("request_count").intValue ?? -1 }

    /// Closes its stdin (the fake's stop signal) and sends SIGTERM, waits up to 5 s for it to
    /// exit, then kills it: a fake that does not stop never hangs the test run.
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
