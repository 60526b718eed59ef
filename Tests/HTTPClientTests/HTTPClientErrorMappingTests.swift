internal import CCurl
import XCTest

@testable import HTTPClient

/// The one mapping from libcurl results to `HTTPClientError`: the kind, and no secret in the text
/// even when libcurl's own message quotes one.
final class HTTPClientErrorMappingTests: XCTestCase {
    func testKindsFollowTheCurlCode() {
        let cases: [(CURLcode, (HTTPClientError) -> Bool)] = [
            (CURLE_COULDNT_RESOLVE_HOST, { if case .dns = $0 { true } else { false } }),
            (CURLE_COULDNT_CONNECT, { if case .connect = $0 { true } else { false } }),
            (CURLE_OPERATION_TIMEDOUT, { if case .timeout = $0 { true } else { false } }),
            (CURLE_PEER_FAILED_VERIFICATION, { if case .tls = $0 { true } else { false } }),
            (CURLE_SSL_CACERT_BADFILE, { if case .tls = $0 { true } else { false } }),
            (CURLE_FILESIZE_EXCEEDED, { if case .tooLarge = $0 { true } else { false } }),
            (CURLE_UNSUPPORTED_PROTOCOL, { if case .invalidRequest = $0 { true } else { false } }),
            (CURLE_GOT_NOTHING, { if case .transport = $0 { true } else { false } }),
        ]
        for (code, isExpected) in cases {
            let error = HTTPClientError.mapping(code, detail: "", host: "h:1", secrets: [], overflow: nil)
            XCTAssertTrue(isExpected(error), "\(code.rawValue) → \(error)")
            XCTAssertTrue(error.description.contains("h:1: "), error.description)
        }
        let overflow = HTTPClientError.mapping(
            CURLE_WRITE_ERROR, detail: "Failure writing output", host: "h:1", secrets: [], overflow: "body over 10 bytes")
        XCTAssertEqual(overflow, .tooLarge("h:1: body over 10 bytes"))
    }

    func testSecretsQuotedByLibcurlAreRedacted() {
        let error = HTTPClientError.mapping(
            CURLE_RECV_ERROR, detail: "bad answer to /api/v3/order?signature=abc123 with Bearer tok-9f8e7d",
            host: "api.example.com", secrets: ["Bearer tok-9f8e7d", "/api/v3/order?signature=abc123", "1"],
            overflow: nil)
        XCTAssertEqual(error, .transport("api.example.com: bad answer to [redacted] with [redacted]"))
    }
}
