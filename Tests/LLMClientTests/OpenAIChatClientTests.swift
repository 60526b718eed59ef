import Foundation
import JSONCodec
import LLMClient
import Synchronization
import XCTest

/// `OpenAIChatClient` against the fake OpenAI-compatible server (`python -m fakes llm`), which the
/// official `openai` Python client checks in tests/integration/test_llm_fake.py.
final class OpenAIChatClientTests: XCTestCase {
    static let key = "sk-secret-key-0123456789abcdef"
    var fake: FakeLLMProcess!

    override func setUpWithError() throws { fake = try FakeLLMProcess() }
    override func tearDown() { fake.stop() }

    private func client(
        baseURL: String? = nil, key: String = OpenAIChatClientTests.key, timeout: Duration = .seconds(10),
        maxConcurrency: Int = 2
    ) throws -> OpenAIChatClient {
        try OpenAIChatClient(
            configuration: OpenAIChatConfiguration(
                baseURL: baseURL ?? fake.baseURL + "/", model: "qwen-plus", apiKey: key, timeout: timeout,
                maxConcurrency: maxConcurrency))
    }

    private let ask = ChatRequest(messages: [.user("BTC: ETF inflows")])

    /// The error `body` throws, or a failure when it returns.
    private func failure(_ body: () throws(LLMClientError) -> ChatCompletion, line: UInt = #line) -> LLMClientError? {
        do {
            let answer = try body()
            XCTFail("expected an error, got \(answer)", line: line)
            return nil
        } catch {
            return error
        }
    }

    func testSendsTheDocumentedRequestAndReadsTheAnswer() throws {
        try fake.control("answer", ["text": "POSITIVE: inflows beat expectations"])
        let answer = try client().complete(
            ChatRequest(
                messages: [.system("Rate the news."), .user("BTC: ETF inflows")], temperature: 0.2, jsonObject: true,
                maxTokens: 50))
        XCTAssertEqual(answer.content, "POSITIVE: inflows beat expectations")
        XCTAssertEqual(answer.finishReason, "stop")
        XCTAssertEqual(answer.model, "qwen-plus")
        XCTAssertEqual(answer.usage?.completionTokens, 4)

        let requests = try fake.requests()
        XCTAssertEqual(requests.count, 1)
        let request = try XCTUnwrap(requests.first)
        XCTAssertEqual(request["path"]?.stringValue, "/v1/chat/completions")
        XCTAssertEqual(request["headers"]?["authorization"]?.stringValue, "Bearer \(Self.key)")
        XCTAssertEqual(request["headers"]?["content-type"]?.stringValue, "application/json")
        let body = try XCTUnwrap(request["body"])
        XCTAssertEqual(body["model"]?.stringValue, "qwen-plus")
        XCTAssertEqual(
            body["messages"],
            .array([
                .object([("role", "system"), ("content", "Rate the news.")]),
                .object([("role", "user"), ("content", "BTC: ETF inflows")]),
            ]))
        XCTAssertEqual(body["temperature"]?.doubleValue, 0.2)
        XCTAssertEqual(body["max_tokens"]?.intValue, 50)
        XCTAssertEqual(body["response_format"]?["type"]?.stringValue, "json_object")
    }

    func testWithoutAKeyNoAuthorizationIsSent() throws {
        _ = try client(key: "").complete(ask)
        let request = try XCTUnwrap(try fake.requests().first)
        XCTAssertNil(request["headers"]?["authorization"])
        XCTAssertNil(request["body"]?["response_format"])
        XCTAssertNil(request["body"]?["temperature"])
    }

    func testStatusErrorsCarryRetryAfterInSecondsOrAsADate() throws {
        try fake.control("fail", ["status": "429", "retry_after": "7"])
        try fake.control("fail", ["status": "503", "retry_after": "Sun, 06 Nov 1994 08:49:37 GMT"])
        try fake.control("fail", ["status": "500"])
        try fake.control("fail", ["status": "429", "retry_after": "later"])
        let api = try client()
        let expected: [(Int, RetryAfter?)] = [
            (429, .seconds(7)), (503, .date(wallMillis: 784_111_777_000)), (500, nil), (429, nil),
        ]
        for (status, retryAfter) in expected {
            guard case .http(let got, let hint, let message) = failure({ () throws(LLMClientError) in try api.complete(ask) })
            else { return XCTFail("not an HTTP error for \(status)") }
            XCTAssertEqual(got, status)
            XCTAssertEqual(hint, retryAfter)
            XCTAssertTrue(message.hasPrefix("127.0.0.1:"), message)
        }
    }

    func testAnAnswerThatIsNotAChatCompletionIsMalformed() throws {
        let bodies = [
            "<html>upstream exploded", "[1, 2]", #"{"choices": []}"#, #"{"id": "x"}"#,
            #"{"choices": [{"index": 0, "message": {"role": "assistant", "content": null}}]}"#,
            #"{"choices": [{"index": 0, "message": {"role": "assistant", "content": 42}}]}"#,
            #"{"choices": [{"index": 0, "text": "legacy completion"}]}"#,
        ]
        for body in bodies { try fake.control("garbage", ["body": body]) }
        let api = try client()
        for body in bodies {
            guard case .malformed = failure({ () throws(LLMClientError) in try api.complete(ask) }) else {
                return XCTFail("not malformed: \(body)")
            }
        }
        XCTAssertEqual(try api.complete(ask).content, "NEUTRAL: no news", "the client still works after garbage")
    }

    func testASlowOrHangingServerIsATimeoutWithinTheLimit() throws {
        try fake.control("answer", ["text": "late", "delay_s": "3"])
        try fake.control("hang")
        let api = try client(timeout: .milliseconds(500))
        for _ in 0..<2 {
            let started = ContinuousClock.now
            guard case .timeout = failure({ () throws(LLMClientError) in try api.complete(ask) }) else {
                return XCTFail("not a timeout")
            }
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        }
        XCTAssertEqual(api.inFlight, 0)
    }

    func testAnUnreachableServerIsAConnectionError() throws {
        let closedPort = try client(baseURL: "http://127.0.0.1:1/v1")
        guard case .connection = failure({ () throws(LLMClientError) in try closedPort.complete(ask) }) else {
            return XCTFail("not a connection error")
        }
    }

    func testCallsBeyondMaxConcurrencyAreRefusedAtOnceAndTheSlotIsFreedAfter() throws {
        try fake.control("answer", ["text": "slow", "delay_s": "1.5"])
        let api = try client(maxConcurrency: 1)
        let first = FirstResult()
        let done = DispatchSemaphore(value: 0)
        let request = ask
        Thread.detachNewThread {
            first.set(try? api.complete(request).content)
            done.signal()
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while try fake.requestCount() < 1 && ContinuousClock.now < deadline { usleep(10_000) }
        XCTAssertEqual(api.inFlight, 1)

        let started = ContinuousClock.now
        XCTAssertEqual(failure({ () throws(LLMClientError) in try api.complete(ask) }), .busy(limit: 1))
        XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(200))
        XCTAssertEqual(try fake.requestCount(), 1, "a refused call sends nothing")

        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(first.value, "slow")
        XCTAssertEqual(try api.complete(ask).content, "NEUTRAL: no news")
        XCTAssertEqual(api.inFlight, 0)
    }

    func testTheKeyNeverShowsInErrorsOrDescriptions() throws {
        let echo = #"{"error": {"message": "Incorrect API key provided: \#(Self.key)", "type": "invalid_request_error"}}"#
        try fake.control("fail", ["status": "401", "body": echo])
        try fake.control("garbage", ["body": "bad key \(Self.key)"])
        try fake.control("hang")
        let api = try client(timeout: .milliseconds(300))
        var texts: [String] = []
        for _ in 0..<3 {
            if let error = failure({ () throws(LLMClientError) in try api.complete(ask) }) {
                texts += [error.description, String(reflecting: error), "\(error)"]
            }
        }
        let unreachable = try client(baseURL: "http://user:\(Self.key)@127.0.0.1:1/v1")
        if let error = failure({ () throws(LLMClientError) in try unreachable.complete(ask) }) {
            texts += [error.description, String(reflecting: error)]
        }
        var dumped = ""
        dump(api.configuration, to: &dumped)
        texts += [
            api.description, String(describing: api.configuration), String(reflecting: api.configuration), dumped,
        ]
        XCTAssertTrue(texts.contains { $0.contains("HTTP 401") && $0.contains("[redacted]") }, "\(texts)")
        for text in texts { XCTAssertFalse(text.contains(Self.key), text) }
        // The key did go out, so the searches above had something to miss.
        XCTAssertEqual(try fake.requests().first?["headers"]?["authorization"]?.stringValue, "Bearer \(Self.key)")
    }

    func testABadConfigurationIsRefusedBeforeAnyCall() {
        XCTAssertThrowsError(
            try OpenAIChatClient(configuration: OpenAIChatConfiguration(baseURL: "x", model: "m", maxConcurrency: 0)))
        XCTAssertEqual(
            failure({ () throws(LLMClientError) in try (try! client()).complete(ChatRequest(messages: [])) }),
            .invalidRequest("no messages"))
        guard
            case .invalidRequest = failure({ () throws(LLMClientError) in
                try (try! client(baseURL: "ftp://127.0.0.1/v1")).complete(ask)
            })
        else { return XCTFail("not refused") }
    }
}

/// The first call's answer, set on its thread and read on the test's.
private final class FirstResult: Sendable {
    private let stored = Mutex<String?>(nil)
    func set(_ value: String?) { stored.withLock { $0 = value } }
    var value: String? { stored.withLock { $0 } }
}
