import JWTAuth
import XCTest

@testable import Bedrock

/// `/dev/token`: who counts as loopback, and what a body mints.
final class DevSignInTests: XCTestCase {
    private let secret = "dev-sign-in-test-secret-0123456789abcdef"

    func testLoopbackAddresses() {
        for peer in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            XCTAssertTrue(DevSignIn.isLoopback(peer), peer)
        }
        for peer in ["10.0.0.1", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1", "?", "", "1127.0.0.1"] {
            XCTAssertFalse(DevSignIn.isLoopback(peer), peer)
        }
    }

    func testMintedTokenVerifiesWithTheChosenRoleAndLifetime() throws {
        let signIn = DevSignIn(signer: JWTSigner(secret: secret))
        let now = Timestamp.nowSeconds()
        let answer = try signIn.mint(body: Array(#"{"role":"trader","sub":"bob","ttl_s":60}"#.utf8), now: now).get()
        XCTAssertEqual(answer["role"]?.stringValue, "TRADER")
        XCTAssertEqual(answer["sub"]?.stringValue, "bob")
        XCTAssertEqual(answer["ttl_s"]?.intValue, 60)
        let token = try XCTUnwrap(answer["token"]?.stringValue)
        let claims = try JWTVerifier(secret: secret).verify(token, now: now).get()
        XCTAssertEqual(claims.sub, "bob")
        XCTAssertEqual(claims.role, .trader)
        XCTAssertEqual(claims.exp, now + 60)
    }

    func testRefusals() {
        let signIn = DevSignIn(signer: JWTSigner(secret: secret))
        for body in [
            #"{"role":"ROOT"}"#, #"{"ttl_s":9}"#, #"{"ttl_s":3601}"#, #"{"ttl_s":"60"}"#,
            #"{"sub":"has space"}"#, #"{"sub":""}"#, "[]", "not json",
        ] {
            guard case .failure(let error) = signIn.mint(body: Array(body.utf8)) else {
                return XCTFail("accepted \(body)")
            }
            XCTAssertEqual(error.code, .badRequest, body)
        }
    }
}
