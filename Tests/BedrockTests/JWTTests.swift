import Foundation
import GatewayCore
import JSONCodec
import XCTest

@testable import Bedrock
@testable import JWTAuth

final class JWTTests: XCTestCase {
    private let secret = "unit-test-secret-0123456789-abcdefghijkl"
    private let now: Int64 = 1_800_000_000
    private var verifier: JWTVerifier { JWTVerifier(secret: secret) }

    /// A token with an arbitrary JSON payload, correctly signed with `alg` by libjwt.
    private func signed(_ payload: String, alg: LibJWT.Algorithm = .hs256, key: String? = nil) -> String {
        LibJWT.encode(grants: [], extraJSON: payload, alg: alg, key: Array((key ?? secret).utf8))!
    }

    /// A token assembled by hand from header and payload JSON and a raw signature part.
    private func handmade(header: String, payload: String, signature: String) -> String {
        Base64URL.encode(header) + "." + Base64URL.encode(payload) + "." + signature
    }

    private func refusal(_ token: String, _ v: JWTVerifier? = nil, now: Int64? = nil) -> AuthFailure? {
        switch (v ?? verifier).verify(token, now: now ?? self.now) {
        case .success: return nil
        case let .failure(f): return f
        }
    }

    private var validPayload: String { #"{"sub":"u1","role":"TRADER","iat":\#(now - 10),"exp":\#(now + 600)}"# }

    func testRoundTrip() throws {
        let token = JWTSigner(secret: secret).sign(sub: "alice", role: .admin, ttl: 3600, now: now)
        let claims = try verifier.verify(token, now: now).get()
        XCTAssertEqual(claims, Claims(sub: "alice", role: .admin, exp: now + 3600, iat: now))
        XCTAssertEqual(claims.expiresAt, "2027-01-15T09:00:00.000Z")
        XCTAssertEqual(refusal(token, now: now + 3599), nil)
        XCTAssertEqual(refusal(token, now: now + 3600), .expired)
        for role in Role.allCases {
            let t = JWTSigner(secret: secret).sign(sub: "s", role: role, now: now)
            XCTAssertEqual(try verifier.verify(t, now: now).get().role, role)
        }
    }

    func testIndependentlySignedTokenAccepted() throws {
        // Signed with Python's hmac/hashlib, not with libjwt.
        let v = JWTVerifier(secret: "reference-secret-0123456789-abcdefghij")
        let t =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvbGUiOiJUUkFERVIiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.hF7D8fsseX6mEOvYin7kwAwq6VgQEMorgGlf2HPc6dU"
        XCTAssertEqual(
            try v.verify(t, now: now).get(),
            Claims(sub: "alice", role: .trader, exp: 4_102_444_800, iat: 1_700_000_000))
        XCTAssertEqual(refusal(t), .badSignature, "same token, other key")
    }

    /// Tokens signed with Python's hmac/hashlib (key "reference-secret-0123456789-abcdefghij"),
    /// each with a correct HS256 signature over a header or payload libjwt would accept.
    private enum Reference {
        static let key = "reference-secret-0123456789-abcdefghij"
        /// `{"alg":"hs256","typ":"JWT"}`, TRADER payload.
        static let lowerCaseAlg =
            "eyJhbGciOiJoczI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvbGUiOiJUUkFERVIiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.oi6Lpulq2G_29F5w3hSzyqn_YwmybEsvb9b69URDjmI"
        /// Payload `{"sub":"alice","role":"VIEWER","role":"ADMIN",...}`.
        static let duplicateRole =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvbGUiOiJWSUVXRVIiLCJyb2xlIjoiQURNSU4iLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.-csqoPAPa-rA8IPDLEVNNJyxC-VXgYCKE9qXgcr6Gco"
        /// Header `{"alg":"HS256","typ":"JWT","typ":"JWT"}`.
        static let duplicateHeaderKey =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvbGUiOiJUUkFERVIiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.JG1I1__m3g9DTpogU1qHrgMOS6oq0lWmMIXkfQBc6bU"
        /// Payload with a nested duplicate: `"ctx":{"a":1,"a":2}`.
        static let nestedDuplicate =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvbGUiOiJUUkFERVIiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMCwiY3R4Ijp7ImEiOjEsImEiOjJ9fQ.OJbwR-FbBgwu03ung9Jdseg0VqNUNUqULy743e51QyM"
    }

    func testAlgorithmNameMustBeExactlyHS256() {
        let v = JWTVerifier(secret: Reference.key)
        XCTAssertEqual(refusal(Reference.lowerCaseAlg, v), .algorithmNotAllowed("hs256"))
        XCTAssertEqual(
            refusal(handmade(header: #"{"alg":"Hs256"}"#, payload: validPayload, signature: "AAAA")),
            .algorithmNotAllowed("Hs256"))
    }

    func testDuplicateKeysRefused() {
        let v = JWTVerifier(secret: Reference.key)
        XCTAssertEqual(refusal(Reference.duplicateRole, v), .malformed("payload has a duplicate key"))
        XCTAssertEqual(refusal(Reference.duplicateHeaderKey, v), .malformed("header has a duplicate key"))
        XCTAssertEqual(refusal(Reference.nestedDuplicate, v), .malformed("payload has a duplicate key"))
    }

    func testAlgNoneRefused() {
        let header = #"{"alg":"none","typ":"JWT"}"#
        XCTAssertEqual(refusal(handmade(header: header, payload: validPayload, signature: "")), .algorithmNotAllowed("none"))
        // With a junk signature, and with upper-case spelling.
        XCTAssertEqual(refusal(handmade(header: header, payload: validPayload, signature: "abc")), .algorithmNotAllowed("none"))
        XCTAssertEqual(
            refusal(handmade(header: #"{"alg":"None"}"#, payload: validPayload, signature: "")), .algorithmNotAllowed("None"))
        // A genuine HS256 signature over an alg:none header is still refused.
        let good = signed(validPayload).split(separator: ".")
        XCTAssertEqual(refusal(Base64URL.encode(header) + "." + good[1] + "." + good[2]), .algorithmNotAllowed("none"))
    }

    /// The refusal names the header's alg only when it is a short plain word: the reason is also
    /// the close reason of an unauthenticated socket (ASCII, at most 123 bytes), and the header is
    /// the client's. The session fuzz target (Tests/Fuzz) checks every close reason so.
    func testRefusalNamesTheAlgorithmOnlyWhenShortAndPlain() {
        let odd = [String(repeating: "é", count: 100), String(repeating: "A", count: 300), "HS256\r\nX-Injected: 1"]
        for alg in odd {
            let header = JSONCodec.encodeString(["alg": .string(alg)])
            let token = handmade(header: header, payload: validPayload, signature: "")
            XCTAssertEqual(refusal(token), .algorithmNotAllowed(alg))
            XCTAssertEqual(refusal(token)?.reason, "token algorithm not allowed (HS256 only)")
            let machine = SessionMachine(
                sessionID: "s", limits: SessionLimits(GatewayConfig.Server()),
                at: ClockReading(monotonic: 0, wall: Double(now)), identity: nil
            ) { token in
                self.verifier.verify(token, now: self.now).mapError { AuthRefusal($0.reason) }.map { _ in
                    Identity(subject: "u1", role: .trader, expiresAt: Double(self.now + 600))
                }
            }
            let frame = Array(JSONCodec.encode(["type": "auth", "token": .string(token)]))
            let actions = frame.withUnsafeBytes { machine.receive($0, at: ClockReading(monotonic: 1, wall: Double(now))) }
            guard case .close(_, let reason) = actions.first else { return XCTFail("\(actions)") }
            XCTAssertLessThanOrEqual(reason.utf8.count, 123)
            XCTAssertTrue(reason.utf8.allSatisfy { $0 >= 32 && $0 < 127 }, reason)
        }
        XCTAssertEqual(
            refusal(handmade(header: #"{"alg":"HS384"}"#, payload: validPayload, signature: ""))?.reason,
            "token algorithm HS384 not allowed (HS256 only)")
    }

    func testOtherAlgorithmsRefusedEvenWithTheRightKey() {
        XCTAssertEqual(refusal(signed(validPayload, alg: .hs384)), .algorithmNotAllowed("HS384"))
        XCTAssertEqual(refusal(signed(validPayload, alg: .hs512)), .algorithmNotAllowed("HS512"))
        XCTAssertEqual(
            refusal(
                handmade(
                    header: #"{"alg":"RS256","typ":"JWT"}"#, payload: validPayload,
                    signature: Base64URL.encode(Array(repeating: UInt8(7), count: 256)))),
            .algorithmNotAllowed("RS256"))
        XCTAssertEqual(
            refusal(handmade(header: #"{"alg":"ES256"}"#, payload: validPayload, signature: "AAAA")),
            .algorithmNotAllowed("ES256"))
    }

    func testWrongKeyAndTamperingRefused() {
        XCTAssertNil(refusal(signed(validPayload)))
        XCTAssertEqual(refusal(signed(validPayload, key: "another-secret-0123456789-abcdefghijkl")), .badSignature)
        let parts = signed(validPayload).split(separator: ".").map(String.init)
        // Payload swapped for one claiming ADMIN, signature kept.
        let forged =
            parts[0] + "." + Base64URL.encode(validPayload.replacingOccurrences(of: "TRADER", with: "ADMIN")) + "." + parts[2]
        XCTAssertEqual(refusal(forged), .badSignature)
        // One signature character changed (in the middle, so it is not just padding bits).
        var sig = Array(parts[2])
        sig[10] = sig[10] == "A" ? "B" : "A"
        XCTAssertEqual(refusal(parts[0] + "." + parts[1] + "." + String(sig)), .badSignature)
        XCTAssertEqual(refusal(parts[0] + "." + parts[1] + "."), .badSignature, "signature stripped")
        XCTAssertEqual(refusal(parts[0] + "." + parts[1] + "." + parts[2] + "AA"), .badSignature)
    }

    func testMalformedRefused() {
        let valid = signed(validPayload)
        let p = valid.split(separator: ".").map(String.init)
        XCTAssertEqual(refusal(""), .missingToken)
        XCTAssertEqual(refusal("abc"), .malformed("expected three dot-separated parts"))
        XCTAssertEqual(refusal(p[0] + "." + p[1]), .malformed("expected three dot-separated parts"))
        XCTAssertEqual(refusal(valid + ".x"), .malformed("expected three dot-separated parts"))
        XCTAssertEqual(refusal("." + p[1] + "." + p[2]), .malformed("empty header or payload"))
        XCTAssertEqual(refusal(p[0] + "+/." + p[1] + "." + p[2]), .malformed("characters outside base64url"))
        XCTAssertEqual(refusal("Bearer " + valid), .malformed("characters outside base64url"))
        XCTAssertEqual(refusal("A." + p[1] + "." + p[2]), .malformed("header is not base64url"))
        XCTAssertEqual(refusal(Base64URL.encode("not json") + "." + p[1] + "." + p[2]), .malformed("header is not a JSON object"))
        XCTAssertEqual(refusal(Base64URL.encode(#"{"typ":"JWT"}"#) + "." + p[1] + "." + p[2]), .malformed("header has no alg"))
        XCTAssertEqual(refusal(p[0] + "." + Base64URL.encode("[1,2]") + "." + p[2]), .malformed("payload is not a JSON object"))
        XCTAssertEqual(refusal(String(repeating: "a", count: 9000) + ".b.c"), .malformed("longer than 8192 bytes"))
        // Correctly signed, but a payload that is not an object cannot be produced by libjwt; a
        // signed token with a non-JWT typ is refused.
        XCTAssertNotNil(refusal(handmade(header: #"{"alg":"HS256","typ":"JOSE+X"}"#, payload: validPayload, signature: p[2])))
    }

    func testTimeClaims() {
        XCTAssertEqual(refusal(signed(#"{"sub":"u","role":"VIEWER"}"#)), .missingClaim("exp"))
        XCTAssertEqual(
            refusal(signed(#"{"sub":"u","role":"VIEWER","exp":"\#(now + 60)"}"#)),
            .invalidClaim("exp must be an integer (epoch seconds)"))
        XCTAssertEqual(
            refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 60).5}"#)),
            .invalidClaim("exp must be an integer (epoch seconds)"))
        XCTAssertEqual(
            refusal(signed(#"{"sub":"u","role":"VIEWER","exp":true}"#)),
            .invalidClaim("exp must be an integer (epoch seconds)"))
        XCTAssertEqual(refusal(signed(#"{"sub":"u","role":"VIEWER","exp":0}"#)), .expired)
        XCTAssertEqual(refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now)}"#)), .expired)
        XCTAssertEqual(refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now - 1)}"#)), .expired)
        XCTAssertNil(refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 1)}"#)))
        // nbf: honoured, with a 60 s leeway for clock skew.
        XCTAssertEqual(refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 600),"nbf":\#(now + 61)}"#)), .notYetValid)
        XCTAssertNil(refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 600),"nbf":\#(now + 60)}"#)))
        XCTAssertNil(refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 600),"nbf":\#(now - 600)}"#)))
        XCTAssertEqual(
            refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 600),"nbf":"soon"}"#)),
            .invalidClaim("nbf must be an integer (epoch seconds)"))
        // iat in the future beyond the leeway.
        XCTAssertEqual(refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 600),"iat":\#(now + 61)}"#)), .issuedInFuture)
        XCTAssertNil(refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 600),"iat":\#(now + 30)}"#)))
        XCTAssertEqual(
            refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 600),"iat":"x"}"#)),
            .invalidClaim("iat must be an integer (epoch seconds)"))
        let strict = JWTVerifier(secret: secret, leewaySeconds: 0)
        XCTAssertEqual(
            refusal(signed(#"{"sub":"u","role":"VIEWER","exp":\#(now + 600),"nbf":\#(now + 1)}"#), strict), .notYetValid)
    }

    func testSubjectAndRoleClaims() {
        let exp = now + 600
        XCTAssertEqual(refusal(signed(#"{"role":"VIEWER","exp":\#(exp)}"#)), .missingClaim("sub"))
        XCTAssertEqual(refusal(signed(#"{"sub":42,"role":"VIEWER","exp":\#(exp)}"#)), .invalidClaim("sub must be a string"))
        XCTAssertEqual(refusal(signed(#"{"sub":"","role":"VIEWER","exp":\#(exp)}"#)), .invalidClaim("sub must be 1-256 bytes"))
        XCTAssertEqual(refusal(signed(#"{"sub":"u","exp":\#(exp)}"#)), .missingClaim("role"))
        XCTAssertEqual(
            refusal(signed(#"{"sub":"u","role":"ROOT","exp":\#(exp)}"#)),
            .invalidClaim("role must be ADMIN, TRADER or VIEWER"))
        XCTAssertEqual(
            refusal(signed(#"{"sub":"u","role":"admin","exp":\#(exp)}"#)),
            .invalidClaim("role must be ADMIN, TRADER or VIEWER"))
        XCTAssertEqual(refusal(signed(#"{"sub":"u","role":["ADMIN"],"exp":\#(exp)}"#)), .invalidClaim("role must be a string"))
    }

    func testIssuerAndAudienceWhenConfigured() throws {
        let v = JWTVerifier(secret: secret, issuer: "https://auth.example", audience: "bedrock")
        let base = #""sub":"u","role":"VIEWER","exp":\#(now + 600)"#
        XCTAssertNil(refusal(signed(#"{\#(base),"iss":"https://auth.example","aud":"bedrock"}"#), v))
        XCTAssertNil(refusal(signed(#"{\#(base),"iss":"https://auth.example","aud":["other","bedrock"]}"#), v))
        XCTAssertEqual(refusal(signed(#"{\#(base),"iss":"https://evil.example","aud":"bedrock"}"#), v), .wrongIssuer)
        XCTAssertEqual(refusal(signed(#"{\#(base),"aud":"bedrock"}"#), v), .wrongIssuer)
        XCTAssertEqual(refusal(signed(#"{\#(base),"iss":"https://auth.example","aud":"other"}"#), v), .wrongAudience)
        XCTAssertEqual(refusal(signed(#"{\#(base),"iss":"https://auth.example","aud":["a","b"]}"#), v), .wrongAudience)
        XCTAssertEqual(refusal(signed(#"{\#(base),"iss":"https://auth.example"}"#), v), .wrongAudience)
        XCTAssertEqual(refusal(signed(#"{\#(base),"iss":"https://auth.example","aud":7}"#), v), .wrongAudience)
        // Not configured: iss/aud are not checked.
        XCTAssertNil(refusal(signed(#"{\#(base),"iss":"anyone","aud":"anything"}"#)))
        // The signer adds them, and an independently signed token with an aud array passes.
        let t = JWTSigner(secret: secret, issuer: "https://auth.example", audience: "bedrock").sign(
            sub: "u", role: .viewer, now: now)
        XCTAssertNil(refusal(t, v))
        let ref = JWTVerifier(
            secret: "reference-secret-0123456789-abcdefghij", issuer: "https://auth.example", audience: "bedrock")
        let py =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib2IiLCJyb2xlIjoiVklFV0VSIiwiZXhwIjo0MTAyNDQ0ODAwLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6WyJ4IiwiYmVkcm9jayJdfQ.qd__yZQpCNSSrGQQrdkVUcVHb4m67lfdicLlY_29nvg"
        XCTAssertEqual(try ref.verify(py, now: now).get().sub, "bob")
    }

    func testFailureReasonsAreShortAndNeverEchoTheToken() {
        let token = signed(validPayload, key: "another-secret-0123456789-abcdefghijkl")
        let f = refusal(token)!
        XCTAssertEqual(f.reason, "bad token signature")
        XCTAssertEqual(f.errorCode, .unauthenticated)
        XCTAssertFalse(f.reason.contains(token.prefix(10)))
    }

    func testBase64URLRoundTrip() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(($0 * 37 + n) & 0xFF) }
            XCTAssertEqual(Base64URL.decode(Base64URL.encode(bytes)), bytes)
        }
        XCTAssertEqual(Base64URL.encode("hi?>"), "aGk_Pg")
        XCTAssertNil(Base64URL.decode("a"))
        XCTAssertNil(Base64URL.decode("ab+c"))
    }

    func testTokenAndServerShareTheDevSecretThroughTheDataDirectory() throws {
        let dir = NSTemporaryDirectory() + "bedrock-jwt-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = dir + "/dev.json"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #"{"mode":"dev"}"#.write(toFile: cfg, atomically: true, encoding: .utf8)
        // What `bedrock token --data-dir D` does, then what `bedrock serve --data-dir D` does.
        let tokenSide = try GatewayConfig.load(.init(configFile: cfg, dataDir: dir + "/data", environment: [:]))
        let token = JWTSigner(config: tokenSide).sign(sub: "ops", role: .admin, now: now)
        let serverSide = try GatewayConfig.load(.init(configFile: cfg, dataDir: dir + "/data", environment: [:]))
        XCTAssertEqual(try JWTVerifier(config: serverSide).verify(token, now: now).get().sub, "ops")
        // A server on another data directory has another secret and refuses it.
        let other = try GatewayConfig.load(.init(configFile: cfg, dataDir: dir + "/other", environment: [:]))
        XCTAssertEqual(refusal(token, JWTVerifier(config: other)), .badSignature)
    }

    /// The verifier keeps no state that a stream of verifications could wear out (the rate is
    /// measured by the JWT benchmark in Benchmarks/).
    func testRepeatedVerificationOfOneTokenAlwaysSucceeds() throws {
        let token = JWTSigner(secret: secret).sign(sub: "user-12345", role: .trader, now: now)
        let n = 20_000
        var ok = 0
        for _ in 0..<n { if case .success = verifier.verify(token, now: now) { ok += 1 } }
        XCTAssertEqual(ok, n)
    }
}
