import Foundation
import HTTPClient
import JSONCodec
import Synchronization

/// A fake server of tests/integration/fakes (`python -m fakes <name> <arguments>`: an exchange
/// or the OpenAI-compatible LLM) as a child process on a free loopback port, driven through its
/// HTTP control API (`/__control/<method>`); stopped when this object goes away. Python:
/// `BEDROCK_TEST_PYTHON`, else the repository's `.build-py/venv/bin/python` (what `make test`
/// installs), else `python3`.
/// `@unchecked Sendable`: `Process` and `Pipe` are not marked Sendable; the test thread starts and
/// stops the process, and control calls share one HTTP client under its mutex.
public final class PythonFakeProcess: @unchecked Sendable {
    /// The JSON line the fake prints when it serves (its URLs).
    public let announcement: JSONValue
    /// `http://127.0.0.1:<port>`: where the control API is.
    public let httpURL: String
    private let process: Process
    private let input = Pipe()
    private let client = Mutex(try! HTTPClient())

    /// Why the fake could not be started or a control call failed.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public let message: String
        /// The message.
        public var description: String { message }
        /// A failure saying `message`.
        public init(message: String) { self.message = message }
    }

    /// Starts `python -m fakes <name> <arguments>` and reads its announcement; `needs` names what
    /// the python must have (for the error when it does not start).
    public init(_ name: String, arguments: [String] = [], needs: String = "the standard library") throws {
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
            let http = value["http_url"]?.stringValue
        else {
            process.terminate()
            throw Failure(message: "\(python) -m fakes \(name) did not start (set BEDROCK_TEST_PYTHON to a python with \(needs))")
        }
        announcement = value
        httpURL = http
    }

    /// A URL of the announcement (`base_url`, `ws_url`, ...); throws when it lacks one.
    public func url(_ key: String) throws -> String {
        guard let url = announcement[key]?.stringValue else { throw Failure(message: "the fake announced no \(key)") }
        return url
    }

    /// `GET /__control/<method>?args`: the `result` of the call.
    @discardableResult
    public func control(_ method: String, _ arguments: [String: String] = [:]) throws -> JSONValue {
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

    /// Closes its stdin (the fake's stop signal) and sends SIGTERM, waits up to 5 s for it to
    /// exit, then kills it: a fake that does not stop never hangs the test run.
    public func stop() {
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
