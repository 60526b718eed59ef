import LLMClient
import XCTest

final class RetryAfterTests: XCTestCase {
    func testSecondsAndHTTPDatesAreRead() {
        XCTAssertEqual(RetryAfter(header: "120"), .seconds(120))
        XCTAssertEqual(RetryAfter(header: " 0 "), .seconds(0))
        // 1994-11-06T08:49:37Z
        XCTAssertEqual(RetryAfter(header: "Sun, 06 Nov 1994 08:49:37 GMT"), .date(wallMillis: 784_111_777_000))
    }

    func testAnythingElseIsNoHint() {
        for text in ["", "-1", "1.5", "soon", "+3", "99999999999999999999", "Sun, 06 Nov 1994 08:49:37 PST"] {
            XCTAssertNil(RetryAfter(header: text), text)
        }
    }

    func testDelayFromNow() {
        XCTAssertEqual(RetryAfter.seconds(7).delay(wallNow: 1_000), 7)
        XCTAssertEqual(RetryAfter.date(wallMillis: 1_010_500).delay(wallNow: 1_000), 10.5)
        XCTAssertEqual(RetryAfter.date(wallMillis: 900_000).delay(wallNow: 1_000), 0, "a past date means no wait")
    }

    func testErrorsSayTheHint() {
        let error = LLMClientError.http(status: 429, retryAfter: .seconds(7), message: "127.0.0.1:9: slow down")
        XCTAssertEqual(error.description, "LLM answered HTTP 429, Retry-After 7 s: 127.0.0.1:9: slow down")
    }
}
