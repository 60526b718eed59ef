import JSONCodec
import XCTest

@testable import Bedrock

/// The parameter checks of `presence.get` and `admin.disconnect`: every refusal a BAD_REQUEST
/// naming what is wrong, before anything is read or written.
final class PresenceMethodsTests: XCTestCase {
    private func disconnect(_ params: JSONObject) -> Result<(String, Bool), APIError> {
        Result { () throws(APIError) in try PresenceMethods.disconnectParams(params, LedgerParams(params: params)) }
    }

    func testDisconnectTakesASubAndAnOptionalRevokeFlag() throws {
        XCTAssertEqual(try disconnect(["sub": "alice"]).get().0, "alice")
        XCTAssertEqual(try disconnect(["sub": "alice"]).get().1, false)
        XCTAssertEqual(try disconnect(["sub": "alice", "revoke": true]).get().1, true)
        XCTAssertEqual(try disconnect(["sub": "alice", "revoke": "true"]).get().1, true, "a REST query spelling")
    }

    func testDisconnectRefusesBadInputNamingIt() {
        let cases: [(JSONObject, String)] = [
            ([:], "sub is required"),
            (["sub": 5], "sub must be a string"),
            (["sub": .string(String(repeating: "x", count: 257))], "256"),
            (["sub": "a\u{7}b"], "control characters"),
            (["sub": "   "], "blank"),
            (["sub": "\u{3000} "], "blank"),
            (["sub": "apikey:backend-1"], "api.keys"),
            (["sub": "alice", "revoke": 1], "revoke must be true or false"),
        ]
        for (params, words) in cases {
            guard case .failure(let error) = disconnect(params) else {
                XCTFail("\(params) was accepted")
                continue
            }
            XCTAssertEqual(error.code, .badRequest)
            XCTAssertTrue(error.message.contains(words), "\(error.message) should say \(words)")
        }
    }

    func testTheTopicFilterTakesWireNamesOnly() throws {
        XCTAssertNil(try PresenceMethods.topicFilter(LedgerParams(params: [:])))
        XCTAssertEqual(try PresenceMethods.topicFilter(LedgerParams(params: ["topic": "user"])), "user")
        XCTAssertEqual(
            try PresenceMethods.topicFilter(LedgerParams(params: ["topic": "klines:BTCUSDT:1m"])), "klines",
            "presence counts every klines topic as klines")
        XCTAssertThrowsError(try PresenceMethods.topicFilter(LedgerParams(params: ["topic": "weather"])))
    }
}
