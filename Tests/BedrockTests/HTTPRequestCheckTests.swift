import XCTest

@testable import Bedrock

/// Body framing, the constant-time token comparison and the `Allow` lists: the decisions the HTTP
/// edge makes before routing (the raw-socket behaviour is in tests/integration/test_http_edges.py).
final class HTTPRequestCheckTests: XCTestCase {
    private func body(_ length: String?, _ encoding: String? = nil) -> HTTPRequestCheck.Body {
        HTTPRequestCheck.body(contentLength: length, transferEncoding: encoding, maxBytes: 1000)
    }

    private func refusal(_ framing: HTTPRequestCheck.Body) -> ErrorCode? {
        if case .refused(let code, _) = framing { return code }
        return nil
    }

    func testContentLengthFraming() {
        XCTAssertEqual(body(nil), HTTPRequestCheck.Body.none)
        XCTAssertEqual(body("0"), HTTPRequestCheck.Body.none)
        XCTAssertEqual(body("000"), HTTPRequestCheck.Body.none)
        XCTAssertEqual(body("17"), .length(17))
        XCTAssertEqual(body("0017"), .length(17))
        XCTAssertEqual(body("1000"), .length(1000))
        XCTAssertEqual(refusal(body("1001")), .payloadTooLarge)
        XCTAssertEqual(refusal(body("10000000000")), .payloadTooLarge)
        XCTAssertEqual(refusal(body(String(repeating: "9", count: 40))), .payloadTooLarge)
        for bad in ["-5", "", " 5", "5 ", "+5", "12abc", "0x10", "1e3", "5,5"] {
            XCTAssertEqual(refusal(body(bad)), .badRequest, bad)
        }
    }

    func testTransferEncodingNeedsALength() {
        XCTAssertEqual(refusal(body(nil, "chunked")), .lengthRequired)
        XCTAssertEqual(refusal(body("10", "gzip, chunked")), .lengthRequired)
        XCTAssertEqual(body("10", ""), .length(10))
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(HTTPRequestCheck.constantTimeEquals("metrics-token-0123", "metrics-token-0123"))
        for other in ["", "metrics-token-012", "metrics-token-01234", "Metrics-token-0123", "metrics-token-0124"] {
            XCTAssertFalse(HTTPRequestCheck.constantTimeEquals(other, "metrics-token-0123"), other)
        }
        XCTAssertFalse(HTTPRequestCheck.constantTimeEquals("x", ""))
        XCTAssertTrue(HTTPRequestCheck.constantTimeEquals("", ""))
    }

    func testAllowListsTheVerbsOfAPath() {
        XCTAssertEqual(RESTRoutes.verbs(for: "/v1/account"), ["GET", "HEAD"])
        XCTAssertEqual(RESTRoutes.verbs(for: "/v1/risk/kill-switch"), ["POST"])
        XCTAssertEqual(RESTRoutes.verbs(for: "/v1/positions/p-1/close"), ["POST"])
        XCTAssertEqual(RESTRoutes.verbs(for: "/v1/signals/generate"), ["POST", "GET", "HEAD"])  // also matches {id}
        XCTAssertEqual(RESTRoutes.verbs(for: "/v1/nope"), [])
    }
}
