import GatewayCore
import JWTAuth
import XCTest

@testable import Bedrock

/// The gateway's token check with its cache of verified tokens.
final class TokenCheckTests: XCTestCase {
    private let secret = String(repeating: "k", count: 40)

    private func config() -> GatewayConfig {
        var c = GatewayConfig()
        c.jwt.secret = secret
        return c
    }

    func testCachedTokenStillExpiresAndTamperedTokensAreVerified() throws {
        let now = Int64(Date().timeIntervalSince1970)
        let clock = ManualClock(monotonic: 0, wall: Double(now))
        let check = TokenCheck(config: config(), clock: clock)
        let token = JWTSigner(secret: secret).sign(sub: "alice", role: .trader, ttl: 1, now: now)
        guard case .success(let first) = check.check(token) else { return XCTFail("fresh token refused") }
        XCTAssertEqual(first.subject, "alice")
        guard case .success = check.check(token) else { return XCTFail("cached token refused") }
        var tampered = Array(token.utf8)
        tampered[tampered.count - 2] = tampered[tampered.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        guard case .failure = check.check(String(decoding: tampered, as: UTF8.self)) else {
            return XCTFail("tampered token accepted")
        }
        clock.advance(1)  // exp = now + 1 has come
        guard case .failure(let refusal) = check.check(token) else { return XCTFail("expired token accepted from the cache") }
        XCTAssertTrue(refusal.reason.contains("expired"), refusal.reason)
    }

    func testTheCacheIsBounded() {
        let check = TokenCheck(config: config(), capacity: 3)
        let signer = JWTSigner(secret: secret)
        let now = Int64(Date().timeIntervalSince1970)
        let tokens = (0..<10).map { signer.sign(sub: "u\($0)", role: .viewer, ttl: 60, now: now) }
        for token in tokens { guard case .success = check.check(token) else { return XCTFail("refused") } }
        XCTAssertEqual(check.cachedCount, 3)
        for token in tokens { guard case .success = check.check(token) else { return XCTFail("refused after eviction") } }
    }
}
