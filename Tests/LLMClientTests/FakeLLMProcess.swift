import JSONCodec
import PythonFakes

/// The fake OpenAI-compatible server of tests/integration/fakes (`python -m fakes llm`) as a child
/// process (`PythonFakeProcess`), scripted through its control API; stopped when this object goes
/// away (the fake needs only the standard library).
final class FakeLLMProcess: Sendable {
    /// What a client takes as `base_url` (`…/v1`).
    let baseURL: String
    /// `http://127.0.0.1:<port>`.
    let httpURL: String
    private let fake: PythonFakeProcess

    /// `python -m fakes llm <arguments>`.
    init(arguments: [String] = []) throws {
        fake = try PythonFakeProcess("llm", arguments: arguments)
        baseURL = try fake.url("base_url")
        httpURL = fake.httpURL
    }

    /// `GET /__control/<method>?args`: the `result` of the call.
    @discardableResult
    func control(_ method: String, _ arguments: [String: String] = [:]) throws -> JSONValue {
        try fake.control(method, arguments)
    }

    /// The recorded requests, oldest first (`{method, path, headers, body}`).
    func requests() throws -> [JSONValue] { try control("requests").arrayValue ?? [] }

    /// How many completion requests arrived.
    func requestCount() throws -> Int64 { try control("request_count").intValue ?? -1 }

    /// Stops the fake (at most 5 s, then killed).
    func stop() { fake.stop() }
}
