import MarketDataCore
import XCTest

final class HTTPDateTests: XCTestCase {
    func testIMFFixdate() {
        // RFC 9110's own example.
        XCTAssertEqual(HTTPDate.millis("Sun, 06 Nov 1994 08:49:37 GMT"), 784_111_777_000)
        XCTAssertEqual(HTTPDate.millis("Thu, 01 Jan 1970 00:00:00 GMT"), 0)
        XCTAssertEqual(HTTPDate.millis("Tue, 29 Feb 2028 23:59:59 GMT"), 1_835_481_599_000)
    }

    func testOtherFormsAndGarbageAreNotDates() {
        XCTAssertNil(HTTPDate.millis("Sunday, 06-Nov-94 08:49:37 GMT"))
        XCTAssertNil(HTTPDate.millis("Sun Nov  6 08:49:37 1994"))
        XCTAssertNil(HTTPDate.millis("Sun, 06 Nov 1994 08:49:37 UTC"))
        XCTAssertNil(HTTPDate.millis("Sun, 06 Foo 1994 08:49:37 GMT"))
        XCTAssertNil(HTTPDate.millis("Sun, 06 Nov 1994 8:49:37 GMT"))
        XCTAssertNil(HTTPDate.millis(""))
    }
}
