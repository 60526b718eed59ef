import Foundation
import HTTPClient
import Synchronization
import XCTest

/// The client against a real local server (Resources/fake_server.py): what goes out, what comes
/// back, and every way a call ends without a response.
final class HTTPClientTests: XCTestCase {
    private var server: FakeHTTPServer!

    override func setUpWithError() throws {
        server = try FakeHTTPServer()
    }

    override func tearDown() {
        server.stop()
        server = nil
    }

    private func json(_ response: HTTPClient.Response) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func testGetSendsHeadersAndReadsJSONAndHeadersInAnyCase() throws {
        let client = try HTTPClient()
        let request = HTTPClient.Request(
            url: server.url("/echo?symbol=BTCUSDT&limit=2"), headers: ["X-MBX-APIKEY": "key-123", "Accept": "application/json"])
        let response = try client.send(request)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["x-mbx-used-weight-1m"], "12")
        XCTAssertEqual(response.headers["X-MBX-USED-WEIGHT-1M"], "12")
        XCTAssertEqual(response.headers["content-type"], "application/json")
        XCTAssertNil(response.headers["Retry-After"])
        let echo = try json(response)
        XCTAssertEqual(echo["method"] as? String, "GET")
        XCTAssertEqual(echo["query"] as? [String: String], ["symbol": "BTCUSDT", "limit": "2"])
        let sent = try XCTUnwrap(echo["headers"] as? [String: String])
        XCTAssertEqual(sent["x-mbx-apikey"], "key-123")
        XCTAssertEqual(sent["accept"], "application/json")
        XCTAssertEqual(sent["user-agent"], HTTPClientConfiguration.defaultUserAgent)
        XCTAssertTrue(HTTPClientConfiguration.defaultUserAgent.hasPrefix("bedrock/"))
        XCTAssertNil(sent["content-type"], "no body, no Content-Type")
    }

    func testPostPutAndDeleteSendTheirMethodAndBody() throws {
        let client = try HTTPClient()
        let body = Array(#"{"model":"m","messages":[]}"#.utf8)
        let post = try client.send(
            HTTPClient.Request(
                method: .post, url: server.url("/echo"), headers: ["Content-Type": "application/json"], body: body))
        let echo = try json(post)
        XCTAssertEqual(echo["method"] as? String, "POST")
        XCTAssertEqual(echo["body"] as? String, #"{"model":"m","messages":[]}"#)
        let sent = try XCTUnwrap(echo["headers"] as? [String: String])
        XCTAssertEqual(sent["content-type"], "application/json")
        XCTAssertNil(sent["expect"], "no 100-continue round trip")

        let big = [UInt8](repeating: UInt8(ascii: "b"), count: 200_000)
        let put = try json(client.send(HTTPClient.Request(method: .put, url: server.url("/echo"), body: big)))
        XCTAssertEqual(put["method"] as? String, "PUT")
        XCTAssertEqual((put["body"] as? String)?.utf8.count, big.count)
        XCTAssertNil((put["headers"] as? [String: String])?["content-type"], "no form type made up for the body")

        let delete = try json(client.send(HTTPClient.Request(method: .delete, url: server.url("/echo"))))
        XCTAssertEqual(delete["method"] as? String, "DELETE")
        XCTAssertEqual(delete["body"] as? String, "")

        let head = try client.send(HTTPClient.Request(method: .head, url: server.url("/echo")))
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, [])
    }

    func testStatus429IsAResponseWithItsRetryAfter() throws {
        let client = try HTTPClient()
        let response = try client.send(HTTPClient.Request(url: server.url("/status/429?retry_after=7")))
        XCTAssertEqual(response.status, 429)
        XCTAssertEqual(response.headers["retry-after"], "7")
        XCTAssertEqual(response.text, #"{"code":-1003,"msg":"Too many requests."}"#)
        let banned = try client.send(HTTPClient.Request(url: server.url("/status/418?retry_after=120")))
        XCTAssertEqual(banned.status, 418)
        XCTAssertEqual(banned.headers["Retry-After"], "120")
    }

    func testSlowResponseTimesOutWithinTheTimeout() throws {
        let client = try HTTPClient()
        let clock = ContinuousClock()
        let start = clock.now
        XCTAssertThrowsError(
            try client.send(HTTPClient.Request(url: server.url("/slow?seconds=10"), timeout: .milliseconds(500)))
        ) { error in
            guard case .timeout(let message) = error as? HTTPClientError else {
                return XCTFail("expected a timeout, got \(error)")
            }
            XCTAssertTrue(message.contains("127.0.0.1:\(server.port)"), message)
        }
        let elapsed = clock.now - start
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(450))
        XCTAssertLessThan(elapsed, .milliseconds(2500), "timeout 0.5 s + 2 s slack")
        // The handle is still good after a timeout.
        XCTAssertEqual(try client.send(HTTPClient.Request(url: server.url("/echo"))).status, 200)
    }

    func testRefusedConnectionIsAConnectErrorWithoutSecrets() throws {
        let port = server.port
        server.stop()  // nothing listens there any more
        let client = try HTTPClient()
        let secret = "Bearer sk-live-0123456789abcdef"
        let request = HTTPClient.Request(
            url: "http://user:hunter22@127.0.0.1:\(port)/api/v3/order?signature=deadbeefcafe",
            headers: ["Authorization": secret, "X-MBX-APIKEY": "apikey-abcdef"])
        XCTAssertThrowsError(try client.send(request)) { error in
            guard case .connect = error as? HTTPClientError else { return XCTFail("expected connect, got \(error)") }
            let text = "\(error)"
            XCTAssertTrue(text.contains("127.0.0.1:\(port)"), text)
            for hidden in [secret, "sk-live", "apikey-abcdef", "hunter22", "signature", "deadbeefcafe", "/api/v3/order"] {
                XCTAssertFalse(text.contains(hidden), "\(hidden) in \(text)")
            }
        }
    }

    func testUnresolvableHostIsADNSError() throws {
        let client = try HTTPClient()
        // Generous timeouts: a resolver that answers slowly still ends in .dns, not .timeout.
        let request = HTTPClient.Request(
            url: "http://no-such-host.invalid/", timeout: .seconds(30), connectTimeout: .seconds(25))
        XCTAssertThrowsError(try client.send(request)) { error in
            guard case .dns(let message) = error as? HTTPClientError else { return XCTFail("expected dns, got \(error)") }
            XCTAssertTrue(message.contains("no-such-host.invalid"), message)
        }
    }

    func testBodyOverTheCapIsRefused() throws {
        let client = try HTTPClient(configuration: HTTPClientConfiguration(maxResponseBytes: 4096))
        XCTAssertEqual(try client.send(HTTPClient.Request(url: server.url("/bytes?n=4096"))).body.count, 4096)
        for path in ["/bytes?n=5000", "/bytes?n=100000&chunked=1", "/bytes?n=4097&chunked=1"] {
            XCTAssertThrowsError(try client.send(HTTPClient.Request(url: server.url(path))), path) { error in
                guard case .tooLarge = error as? HTTPClientError else { return XCTFail("\(path): got \(error)") }
            }
        }
        XCTAssertEqual(try client.send(HTTPClient.Request(url: server.url("/bytes?n=10&chunked=1"))).text, "xxxxxxxxxx")
    }

    func testCompressedBodyIsDecodedAndCappedAfterDecoding() throws {
        let client = try HTTPClient(configuration: HTTPClientConfiguration(maxResponseBytes: 4096))
        let small = try client.send(HTTPClient.Request(url: server.url("/gzip?n=1000")))
        XCTAssertEqual(small.body, [UInt8](repeating: UInt8(ascii: "x"), count: 1000))
        // About 1 KB on the wire, 1 MB once inflated.
        XCTAssertThrowsError(try client.send(HTTPClient.Request(url: server.url("/gzip?n=1000000")))) { error in
            guard case .tooLarge = error as? HTTPClientError else { return XCTFail("got \(error)") }
        }
    }

    func testStalledBodyEndsAtTheLowSpeedLimitBeforeTheTimeout() throws {
        let client = try HTTPClient(configuration: HTTPClientConfiguration(lowSpeedSeconds: 1))
        let clock = ContinuousClock()
        let start = clock.now
        XCTAssertThrowsError(try client.send(HTTPClient.Request(url: server.url("/stall"), timeout: .seconds(20)))) { error in
            guard case .timeout = error as? HTTPClientError else { return XCTFail("expected timeout, got \(error)") }
        }
        XCTAssertLessThan(clock.now - start, .seconds(5), "low-speed limit 1 s (+ slack), far below the 20 s timeout")
    }

    func testHeadersOverTheCapAreRefused() throws {
        let client = try HTTPClient(configuration: HTTPClientConfiguration(maxHeaderBytes: 100))
        XCTAssertThrowsError(try client.send(HTTPClient.Request(url: server.url("/echo")))) { error in
            guard case .tooLarge(let message) = error as? HTTPClientError else { return XCTFail("got \(error)") }
            XCTAssertTrue(message.contains("headers"), message)
        }
    }

    func testConsecutiveCallsReuseOneConnection() throws {
        let client = try HTTPClient()
        let first = try client.send(HTTPClient.Request(url: server.url("/connection"))).text
        _ = try client.send(HTTPClient.Request(url: server.url("/status/429")))
        let third = try client.send(HTTPClient.Request(url: server.url("/connection"))).text
        XCTAssertEqual(first, third, "the same client port: one kept-alive connection")
        let other = try HTTPClient().send(HTTPClient.Request(url: server.url("/connection"))).text
        XCTAssertNotEqual(first, other, "each client has its own connection")
    }

    func testClientsOnSeveralThreadsRunAtOnce() throws {
        let url = server.url("/echo")
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            // Each thread makes and keeps its own client, as docs/THREADS.md says.
            guard let client = try? HTTPClient() else { return }
            for _ in 0..<10 {
                let status = (try? client.send(HTTPClient.Request(url: url)))?.status ?? -1
                statuses.withLock { $0.append(status) }
            }
        }
        XCTAssertEqual(statuses.withLock { $0 }, [Int](repeating: 200, count: 40))
    }

    func testRedirectsAreReturnedUnlessConfigured() throws {
        let plain = try HTTPClient().send(HTTPClient.Request(url: server.url("/redirect")))
        XCTAssertEqual(plain.status, 302)
        XCTAssertEqual(plain.headers["location"], "/echo")
        let following = try HTTPClient(configuration: HTTPClientConfiguration(maxRedirects: 2))
        let followed = try following.send(HTTPClient.Request(url: server.url("/redirect")))
        XCTAssertEqual(followed.status, 200)
        XCTAssertEqual(followed.headers["X-MBX-USED-WEIGHT-1M"], "12", "only the final response's headers")
        XCTAssertNil(followed.headers["location"])
    }

    func testRequestsThatMustNotBeSentAreRefused() throws {
        let client = try HTTPClient()
        let refused: [(String, HTTPClient.Request)] = [
            ("file scheme", HTTPClient.Request(url: "file:///etc/passwd")),
            ("relative", HTTPClient.Request(url: "/echo")),
            ("space", HTTPClient.Request(url: server.url("/echo x"))),
            ("CRLF in value", HTTPClient.Request(url: server.url("/echo"), headers: ["X-A": "1\r\nX-Injected: yes"])),
            ("LF in name", HTTPClient.Request(url: server.url("/echo"), headers: ["X-A\nB": "1"])),
            ("zero timeout", HTTPClient.Request(url: server.url("/echo"), timeout: .zero)),
            ("negative connect timeout", HTTPClient.Request(url: server.url("/echo"), connectTimeout: .seconds(-1))),
        ]
        for (name, request) in refused {
            XCTAssertThrowsError(try client.send(request), name) { error in
                guard case .invalidRequest = error as? HTTPClientError else { return XCTFail("\(name): got \(error)") }
            }
        }
        XCTAssertEqual(try client.send(HTTPClient.Request(url: server.url("/echo"))).status, 200)
    }

    func testHeaderLookupIgnoresCaseAndKeepsRepeats() {
        var headers: HTTPClient.Headers = ["Retry-After": "3"]
        headers.add("Set-Cookie", "a=1")
        headers.add("set-cookie", "b=2")
        XCTAssertEqual(headers["RETRY-AFTER"], "3")
        XCTAssertEqual(headers.values("Set-Cookie"), ["a=1", "b=2"])
        XCTAssertTrue(headers.contains("retry-after"))
        XCTAssertFalse(headers.contains("retry-afte"))
        XCTAssertNil(headers["Retry_After"])
    }
}
