import GatewayCore
import JWTAuth
import XCTest

@testable import Bedrock

final class CodesTests: XCTestCase {
    func testErrorCodeTableMatchesSpec() {
        let expected: [String: Int] = [
            "BAD_REQUEST": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
            "METHOD_NOT_ALLOWED": 405, "CONFLICT": 409, "LENGTH_REQUIRED": 411, "PAYLOAD_TOO_LARGE": 413,
            "URI_TOO_LONG": 414, "RATE_LIMITED": 429, "HEADERS_TOO_LARGE": 431, "INTERNAL": 500,
            "UNAVAILABLE": 503,
        ]
        XCTAssertEqual(ErrorCode.allCases.count, expected.count)
        for code in ErrorCode.allCases {
            XCTAssertEqual(expected[code.rawValue], code.httpStatus, code.rawValue)
            XCTAssertFalse(code.httpReason.isEmpty)
        }
        XCTAssertEqual(ErrorCode(rawValue: "FORBIDDEN"), .forbidden)
        XCTAssertNil(ErrorCode(rawValue: "forbidden"))
    }

    func testCloseCodeTableMatchesSpec() {
        let expected: [UInt16] = [1001, 1009, 4401, 4403, 4408, 4429, 4503]
        XCTAssertEqual(CloseCode.allCases.map(\.rawValue), expected)
        XCTAssertEqual(CloseCode.heartbeatTimeout.rawValue, 4408)
        XCTAssertEqual(CloseCode.atCapacity.rawValue, 4503)
    }

    func testTimestampFormatsUTCWithMilliseconds() {
        XCTAssertEqual(Timestamp.rfc3339(millis: 0), "1970-01-01T00:00:00.000Z")
        // 2026-11-21T23:10:00.123Z
        XCTAssertEqual(Timestamp.rfc3339(millis: 1_795_302_600_123), "2026-11-21T23:10:00.123Z")
        XCTAssertEqual(Timestamp.rfc3339(millis: 951_782_400_000 - 1), "2000-02-28T23:59:59.999Z")
        XCTAssertEqual(Timestamp.rfc3339(millis: 951_782_400_000), "2000-02-29T00:00:00.000Z")
        XCTAssertEqual(Timestamp.rfc3339(millis: 951_782_400_000 + 86_400_000), "2000-03-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.rfc3339(millis: -1), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(Timestamp.rfc3339(Date(timeIntervalSince1970: 1_700_000_000.5)), "2023-11-14T22:13:20.500Z")
    }

    func testTimestampClampsInsteadOfTrapping() {
        XCTAssertEqual(Timestamp.rfc3339(millis: .max), "9999-12-31T23:59:59.999Z")
        XCTAssertEqual(Timestamp.rfc3339(millis: .min), "0000-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.rfc3339(seconds: .nan), "0000-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.rfc3339(seconds: .infinity), "9999-12-31T23:59:59.999Z")
        XCTAssertEqual(Claims(sub: "s", role: .viewer, exp: .max).expiresAt, "9999-12-31T23:59:59.000Z")
        XCTAssertEqual(Claims(sub: "s", role: .viewer, exp: 1_795_302_600).expiresAt, "2026-11-21T23:10:00.000Z")
    }

    func testTimestampAgreesWithFoundationOverManyDays() {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        var ms: Int64 = 0
        while ms < 4_102_444_800_000 {  // up to 2100
            let d = Date(timeIntervalSince1970: Double(ms) / 1000)
            XCTAssertEqual(Timestamp.rfc3339(millis: ms), f.string(from: d))
            ms += 86_400_000 * 37 + 3_723_456
        }
    }

    func testNowIsCurrent() {
        let now = Timestamp.nowMillis()
        let sys = Int64(Date().timeIntervalSince1970 * 1000)
        XCTAssertLessThan(abs(now - sys), 2000)
        XCTAssertEqual(Timestamp.now().count, 24)
    }
}
