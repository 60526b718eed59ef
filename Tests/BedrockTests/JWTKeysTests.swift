import Foundation
import GatewayCore
import JSONCodec
import Synchronization
import XCTest

@testable import Bedrock
@testable import JWTAuth

/// Public keys (PEM, JWKS), the algorithm pinned to the key's type, and `jwt.previous_secret`.
/// Keys are made by the `openssl` command once per run; RS256/ES256 tokens are signed by libjwt
/// with the private keys (tests/integration/test_jwt_keys.py signs them independently, with PyJWT).
final class JWTKeysTests: XCTestCase {
    private static let dir = NSTemporaryDirectory() + "bedrock-jwt-keys-\(getpid())"
    private let now: Int64 = 1_800_000_000
    private let secret = "unit-test-secret-0123456789-abcdefghijkl"
    private let oldSecret = "unit-test-old-secret-9876543210-zyxwvu"

    override class func setUp() {
        super.setUp()
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let rsa = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        for (name, spec) in [
            ("rsa", rsa), ("rsa2", rsa), ("ec", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
            ("ec384", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]),
            ("rsa1024", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]),
        ] {
            openssl(["genpkey"] + spec + ["-out", "\(dir)/\(name).key"])
            openssl(["pkey", "-in", "\(dir)/\(name).key", "-pubout", "-out", "\(dir)/\(name).pub"])
        }
        openssl(["rsa", "-in", "\(dir)/rsa.key", "-RSAPublicKey_out", "-out", "\(dir)/rsa.pkcs1"])
        openssl(["req", "-new", "-x509", "-key", "\(dir)/ec.key", "-subj", "/CN=idp", "-days", "1", "-out", "\(dir)/ec.crt"])
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }

    @discardableResult
    private static func openssl(_ args: [String]) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try! p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "openssl \(args) failed")
        return text
    }

    private func file(_ name: String) -> [UInt8] { Array(FileManager.default.contents(atPath: "\(Self.dir)/\(name)")!) }

    private func publicKey(_ name: String) throws -> JWTPublicKey { try JWTPublicKey.fromPEM(file("\(name).pub")).get() }

    private var payload: String { #"{"sub":"idp","role":"VIEWER","iat":\#(now - 5),"exp":\#(now + 600)}"# }

    /// A token signed by libjwt with a private key (`.rs256`/`.es256`) or secret (`.hs256`).
    private func token(_ alg: LibJWT.Algorithm, key: [UInt8], kid: String? = nil) -> String {
        LibJWT.encode(grants: [], extraJSON: payload, alg: alg, key: key, kid: kid)!
    }

    private func outcome(_ token: String, _ keys: JWTKeySet) -> AuthFailure? {
        switch JWTVerifier(keys: keys).verify(token, now: now) {
        case .success(let claims):
            XCTAssertEqual(claims, Claims(sub: "idp", role: .viewer, exp: now + 600, iat: now - 5))
            return nil
        case .failure(let f): return f
        }
    }

    // MARK: PEM files

    func testPEMKeyTypePinsTheAlgorithm() throws {
        XCTAssertEqual(try publicKey("rsa").algorithm, .rs256)
        XCTAssertEqual(try publicKey("ec").algorithm, .es256)
        XCTAssertNil(try publicKey("rsa").kid)
        // OpenSSL re-writes the key; for a file `openssl pkey -pubout` wrote, byte for byte.
        XCTAssertEqual(try publicKey("rsa").pem, file("rsa.pub"))
        func refusal(_ name: String) -> String? {
            if case .failure(let e) = JWTPublicKey.fromPEM(file(name)) { return e.message }
            return nil
        }
        XCTAssertEqual(refusal("ec384.pub"), "EC key on curve secp384r1; only P-256 (prime256v1, for ES256) is supported")
        XCTAssertEqual(refusal("rsa1024.pub"), "RSA key of 1024 bits, at least 2048 needed")
        XCTAssertEqual(refusal("rsa.key"), "holds a private key; give the public key (`openssl pkey -in FILE -pubout`)")
        XCTAssertEqual(refusal("ec.crt"), "holds a certificate; extract its key with `openssl x509 -in FILE -pubkey -noout`")
        // A PKCS#1 `RSA PUBLIC KEY` is read too, and re-written as SubjectPublicKeyInfo.
        XCTAssertEqual(try JWTPublicKey.fromPEM(file("rsa.pkcs1")).get().pem, file("rsa.pub"))
        XCTAssertEqual(
            JWTPublicKey.fromPEM(Array("hello".utf8)),
            .failure(JWTKeyError("is not a PEM public key (-----BEGIN PUBLIC KEY-----)")))
    }

    func testPublicKeyVerifiesOnlyItsOwnAlgorithm() throws {
        let rsaOnly = JWTKeySet(secrets: [], publicKeys: [try publicKey("rsa")])
        XCTAssertEqual(rsaOnly.algorithms, [.rs256])
        XCTAssertNil(outcome(token(.rs256, key: file("rsa.key")), rsaOnly))
        XCTAssertEqual(outcome(token(.rs256, key: file("rsa2.key")), rsaOnly), .badSignature)
        XCTAssertFalse(OpenSSLPublicKey.threadHasError, "a failed check leaves no OpenSSL error for this thread's TLS")
        XCTAssertEqual(
            outcome(token(.es256, key: file("ec.key")), rsaOnly), .algorithmNotAllowed("ES256", accepted: [.rs256]))
        // The confusion attack: HS256 keyed with the public key's PEM text. libjwt alone accepts
        // it (it would HMAC with the PEM bytes); the key set never offers a public key to HS256.
        let confused = token(.hs256, key: file("rsa.pub"))
        XCTAssertEqual(LibJWT.withVerified(token: confused, key: file("rsa.pub")) { _ in true }, true, "libjwt alone accepts it")
        XCTAssertEqual(outcome(confused, rsaOnly), .algorithmNotAllowed("HS256", accepted: [.rs256]))
        XCTAssertEqual(
            outcome(confused, rsaOnly)?.reason, "token algorithm HS256 not allowed (RS256 only)")
        let none = Base64URL.encode(#"{"alg":"none"}"#) + "." + Base64URL.encode(payload) + "."
        XCTAssertEqual(outcome(none, rsaOnly), .algorithmNotAllowed("none", accepted: [.rs256]))

        let ecOnly = JWTKeySet(secrets: [], publicKeys: [try publicKey("ec")])
        XCTAssertNil(outcome(token(.es256, key: file("ec.key")), ecOnly))
        // Tampering: another payload under the same signature, a cut or padded signature.
        for (alg, name, keys) in [(LibJWT.Algorithm.rs256, "rsa", rsaOnly), (.es256, "ec", ecOnly)] {
            let parts = token(alg, key: file("\(name).key")).split(separator: ".").map(String.init)
            let admin = Base64URL.encode(payload.replacingOccurrences(of: "VIEWER", with: "ADMIN"))
            XCTAssertEqual(outcome(parts[0] + "." + admin + "." + parts[2], keys), .badSignature)
            XCTAssertEqual(outcome(parts[0] + "." + parts[1] + "." + parts[2].dropLast(4), keys), .badSignature)
            XCTAssertEqual(outcome(parts[0] + "." + parts[1] + "." + parts[2] + "AAAA", keys), .badSignature)
            XCTAssertEqual(outcome(parts[0] + "." + parts[1] + ".", keys), .badSignature)
            XCTAssertFalse(OpenSSLPublicKey.threadHasError)
        }
        XCTAssertEqual(outcome(token(.rs256, key: file("rsa.key")), ecOnly), .algorithmNotAllowed("RS256", accepted: [.es256]))
        XCTAssertEqual(outcome(token(.hs256, key: file("ec.pub")), ecOnly), .algorithmNotAllowed("HS256", accepted: [.es256]))
    }

    /// A token with `header` over the test payload, signed by the `openssl` command: RS256 with
    /// `rsa.key`, or HS256 with `hmacKey`.
    private func opensslSigned(header: String, hmacKey: String? = nil) -> String {
        let input = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        let path = "\(Self.dir)/input-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: Data(input.utf8))
        let how = hmacKey.map { ["-mac", "HMAC", "-macopt", "key:\($0)"] } ?? ["-sign", "\(Self.dir)/rsa.key"]
        Self.openssl(["dgst", "-sha256", "-binary"] + how + ["-out", path + ".sig", path])
        return input + "." + Base64URL.encode(Array(FileManager.default.contents(atPath: path + ".sig")!))
    }

    func testAccessTokenTypeIsAcceptedOnThePublicKeyPath() throws {
        let keys = JWTKeySet(secrets: [secret], publicKeys: [try publicKey("rsa")])
        for typ in ["JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"] {
            XCTAssertNil(outcome(opensslSigned(header: #"{"alg":"RS256","typ":"\#(typ)"}"#), keys), typ)
        }
        XCTAssertNil(outcome(opensslSigned(header: #"{"alg":"RS256"}"#), keys))
        for typ in [#""at+jwt+x""#, #""application/jwt""#, #""JOSE""#, #""at+jwt ""#, "7"] {
            XCTAssertEqual(
                outcome(opensslSigned(header: #"{"alg":"RS256","typ":\#(typ)}"#), keys), .malformed("header typ is not JWT"), typ)
        }
        // The secrets verify the gateway's own tokens (`bedrock token`): JWT only.
        XCTAssertNil(outcome(opensslSigned(header: #"{"alg":"HS256","typ":"JWT"}"#, hmacKey: secret), keys))
        XCTAssertEqual(
            outcome(opensslSigned(header: #"{"alg":"HS256","typ":"at+jwt"}"#, hmacKey: secret), keys),
            .malformed("header typ at+jwt is accepted on RS256 and ES256 tokens only"))
    }

    // MARK: JWKS

    /// The JWK members of the openssl-made keys, read back from `openssl ... -text`.
    private func jwk(_ name: String, kid: String, extra: String = "") -> String {
        if name.hasPrefix("rsa") {
            let modulus = Self.openssl(["rsa", "-pubin", "-in", "\(Self.dir)/\(name).pub", "-noout", "-modulus"])
            let hex = modulus.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "Modulus=", with: "")
            return #"{"kty":"RSA","kid":"\#(kid)","n":"\#(Base64URL.encode(bytes(hex)))","e":"AQAB"\#(extra)}"#
        }
        let text = Self.openssl(["ec", "-pubin", "-in", "\(Self.dir)/\(name).pub", "-noout", "-text"])
        let lines = text.split(separator: "\n")
        let start = lines.firstIndex { $0.hasPrefix("pub:") }! + 1
        let hex = lines[start...].prefix { $0.hasPrefix(" ") }.joined().filter { $0.isHexDigit }
        let point = bytes(String(hex))
        XCTAssertEqual(point.count, 65)
        let x = Base64URL.encode(point[1..<33]), y = Base64URL.encode(point[33..<65])
        return #"{"kty":"EC","crv":"P-256","kid":"\#(kid)","x":"\#(x)","y":"\#(y)"\#(extra)}"#
    }

    private func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    private func jwks(_ keys: [String]) -> Result<[JWTPublicKey], JWTKeyError> {
        JWKS.parse(Array(#"{"keys":[\#(keys.joined(separator: ","))]}"#.utf8))
    }

    func testJWKSKidPicksTheKey() throws {
        let set = try jwks([
            jwk("rsa", kid: "rsa-1", extra: #","use":"sig","alg":"RS256""#), jwk("ec", kid: "ec-1"),
            jwk("rsa2", kid: "enc-1", extra: #","use":"enc""#), #"{"kty":"oct","kid":"h","k":"AAAA"}"#,
            #"{"kty":"EC","crv":"P-384","kid":"p384","x":"AAAA","y":"AAAA"}"#,
            jwk("rsa2", kid: "rs512", extra: #","alg":"RS512""#),
        ]).get()
        XCTAssertEqual(set.map(\.kid), ["rsa-1", "ec-1"], "encryption, oct, P-384 and RS512 keys are skipped")
        XCTAssertEqual(set.map(\.algorithm), [.rs256, .es256])
        // Built from n/e and x/y, the keys are exactly the ones openssl wrote.
        XCTAssertEqual(set[0].pem, file("rsa.pub"))
        XCTAssertEqual(set[1].pem, file("ec.pub"))

        let keys = JWTKeySet(secrets: [secret], publicKeys: set)
        XCTAssertEqual(keys.algorithms, [.hs256, .rs256, .es256])
        XCTAssertNil(outcome(token(.rs256, key: file("rsa.key"), kid: "rsa-1"), keys))
        XCTAssertNil(outcome(token(.es256, key: file("ec.key"), kid: "ec-1"), keys))
        XCTAssertNil(outcome(token(.hs256, key: Array(secret.utf8)), keys))
        XCTAssertEqual(outcome(token(.rs256, key: file("rsa.key"), kid: "gone"), keys), .unknownKey)
        XCTAssertEqual(outcome(token(.rs256, key: file("rsa.key")), keys), .unknownKey)
        XCTAssertEqual(outcome(token(.rs256, key: file("rsa.key")), keys)?.reason, "token key id (kid) not known")
        XCTAssertEqual(outcome(token(.rs256, key: file("rsa2.key"), kid: "enc-1"), keys), .unknownKey)
        XCTAssertEqual(outcome(token(.rs256, key: file("rsa2.key"), kid: "rsa-1"), keys), .badSignature)
        XCTAssertEqual(
            outcome(token(.es256, key: file("ec.key"), kid: "rsa-1"), keys), .algorithmNotAllowed("ES256", accepted: [.rs256]))
        XCTAssertEqual(
            outcome(token(.hs256, key: set[0].pem, kid: "rsa-1"), keys), .badSignature,
            "HS256 is verified with the secrets only, whatever the kid")
        XCTAssertEqual(
            outcome(token(.hs384, key: Array(secret.utf8)), keys)?.reason,
            "token algorithm HS384 not allowed (accepted: HS256, RS256, ES256)")
        // A PEM key answers the tokens of its algorithm that name no kid or an unknown one.
        let withPEM = JWTKeySet(secrets: [], publicKeys: [try publicKey("rsa2")] + set)
        XCTAssertNil(outcome(token(.rs256, key: file("rsa2.key")), withPEM))
        XCTAssertNil(outcome(token(.rs256, key: file("rsa2.key"), kid: "other"), withPEM))
        XCTAssertNil(outcome(token(.rs256, key: file("rsa.key"), kid: "rsa-1"), withPEM))
        XCTAssertEqual(outcome(token(.es256, key: file("ec.key")), withPEM), .unknownKey)
    }

    func testJWKSRefusals() {
        func refusal(_ text: String) -> String? {
            if case .failure(let e) = JWKS.parse(Array(text.utf8)) { return e.message }
            return nil
        }
        let rsa = jwk("rsa", kid: "a")
        XCTAssertEqual(refusal("nope"), "is not valid JSON (or repeats a member)")
        XCTAssertEqual(refusal(#"{"kid":"a"}"#), "must be a JSON object with a \"keys\" array")
        XCTAssertEqual(refusal(#"{"keys":[1]}"#), "keys[0] is not an object")
        XCTAssertEqual(
            refusal(#"{"keys":[]}"#), "holds no signing key the gateway can use (kty RSA for RS256, or EC P-256 for ES256)")
        XCTAssertEqual(
            refusal(#"{"keys":[\#(rsa.replacingOccurrences(of: #""kid":"a","#, with: ""))]}"#),
            "keys[0] (RS256) has no kid; tokens pick keys by kid")
        XCTAssertEqual(refusal(#"{"keys":[\#(rsa),\#(rsa)]}"#), "kid \"a\" appears twice")
        XCTAssertEqual(
            refusal(#"{"keys":[{"kty":"RSA","kid":"b","n":"%%","e":"AQAB"}]}"#), "key \"b\": member n must be non-empty base64url"
        )
        XCTAssertEqual(
            refusal(
                #"{"keys":[{"kty":"RSA","kid":"b","n":"\#(Base64URL.encode([UInt8](repeating: 7, count: 64)))","e":"AQAB"}]}"#),
            "key \"b\": RSA modulus of about 512 bits, at least 2048 needed")
        let x = Base64URL.encode([UInt8](repeating: 1, count: 32))
        XCTAssertEqual(
            refusal(#"{"keys":[{"kty":"EC","crv":"P-256","kid":"c","x":"\#(x)","y":"\#(x)"}]}"#),
            "key \"c\": the point (x, y) is not on P-256")
        XCTAssertEqual(
            refusal(#"{"keys":[{"kty":"EC","crv":"P-256","kid":"c","x":"AAAA","y":"\#(x)"}]}"#),
            "key \"c\": P-256 x and y must be 32 bytes each")
    }

    // MARK: re-reading the key files

    func testAnUnknownKidReReadsTheKeyFilesAtMostEveryThirtySeconds() throws {
        let path = "\(Self.dir)/reload-\(UUID().uuidString).json"
        func write(_ text: String) { XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8))) }
        let (a, b) = (jwk("rsa", kid: "a"), jwk("rsa2", kid: "b"))
        write(#"{"keys":[\#(a)]}"#)
        let config = try load(#"{"mode":"dev","data_dir":"\#(Self.dir)/data","jwt":{"jwks_file":"\#(path)"}}"#).get()
        let clock = ManualClock(monotonic: 100, wall: 0)
        // Re-reads are queued here and run when the test says (the gateway runs them on a thread).
        let queued = Mutex<[@Sendable () -> Void]>([])
        let verifier = KeyReloadingVerifier(config: config, clock: clock) { work in queued.withLock { $0.append(work) } }
        func runQueued() -> Int {
            let work = queued.withLock { q in
                defer { q = [] }
                return q
            }
            work.forEach { $0() }
            return work.count
        }
        // Real time: the verifier judges `exp` by the wall clock.
        let wallNow = JWTClock.nowSeconds()
        func token(_ key: String, kid: String) -> String {
            let claims = #"{"sub":"idp","role":"VIEWER","iat":\#(wallNow - 5),"exp":\#(wallNow + 600)}"#
            return LibJWT.encode(grants: [], extraJSON: claims, alg: .rs256, key: file("\(key).key"), kid: kid)!
        }
        func failure(_ token: String) -> AuthFailure? {
            if case .failure(let f) = verifier.verify(token) { return f }
            return nil
        }
        XCTAssertNil(failure(token("rsa", kid: "a")))
        XCTAssertEqual(runQueued(), 0, "a known kid reads nothing")
        // The provider rotated, the file not yet: one re-read, still unknown.
        XCTAssertEqual(failure(token("rsa2", kid: "b")), .unknownKey)
        XCTAssertEqual(runQueued(), 1)
        XCTAssertEqual(failure(token("rsa2", kid: "b")), .unknownKey)
        // The file now holds both keys, but the last re-read was less than 30 s ago.
        write(#"{"keys":[\#(a),\#(b)]}"#)
        clock.advance(29.9)
        XCTAssertEqual(failure(token("rsa2", kid: "b")), .unknownKey)
        XCTAssertEqual(runQueued(), 0, "at most one re-read every 30 s")
        clock.advance(0.1)
        XCTAssertEqual(failure(token("rsa2", kid: "b")), .unknownKey, "the re-read runs off the caller's thread")
        XCTAssertEqual(failure(token("rsa2", kid: "b")), .unknownKey)
        XCTAssertEqual(runQueued(), 1, "one re-read at a time")
        XCTAssertNil(failure(token("rsa2", kid: "b")))
        XCTAssertNil(failure(token("rsa", kid: "a")))
        // A file that no longer reads keeps the keys in use.
        write(#"{"keys":[{"kty":"RSA","kid":"c","n":"not base64!","e":"AQAB"}]}"#)
        clock.advance(30)
        XCTAssertEqual(failure(token("rsa", kid: "c")), .unknownKey)
        XCTAssertEqual(runQueued(), 1)
        XCTAssertNil(failure(token("rsa2", kid: "b")))
        XCTAssertNil(failure(token("rsa", kid: "a")))
        // A key the provider dropped stops verifying once the file is re-read.
        write(#"{"keys":[\#(b)]}"#)
        clock.advance(30)
        XCTAssertEqual(failure(token("rsa", kid: "c")), .unknownKey)
        XCTAssertEqual(runQueued(), 1)
        XCTAssertEqual(failure(token("rsa", kid: "a")), .unknownKey)
        XCTAssertNil(failure(token("rsa2", kid: "b")))

    }

    // MARK: secrets and configuration

    func testPreviousSecretVerifiesDuringTheWindowButNeverSigns() throws {
        let oldToken = JWTSigner(secret: oldSecret).sign(sub: "idp", role: .viewer, ttl: 605, now: now - 5)
        XCTAssertNil(outcome(oldToken, JWTKeySet(secrets: [secret, oldSecret])))
        XCTAssertEqual(outcome(oldToken, JWTKeySet(secrets: [secret])), .badSignature)

        var config = GatewayConfig()
        config.jwt.secret = secret
        config.jwt.previousSecret = oldSecret
        XCTAssertNotNil(JWTVerifier(config: config).claims(oldToken, now: now))
        let fresh = JWTSigner(config: config).sign(sub: "new", role: .trader, now: now)
        XCTAssertNotNil(JWTVerifier(secret: secret).claims(fresh, now: now))
        XCTAssertNil(JWTVerifier(secret: oldSecret).claims(fresh, now: now), "the previous secret never signs")
    }

    private func load(_ json: String, env: [String: String] = [:]) -> Result<GatewayConfig, ConfigError> {
        let path = Self.dir + "/config-\(UUID().uuidString).json"
        FileManager.default.createFile(atPath: path, contents: Data(json.utf8))
        do {
            return .success(try GatewayConfig.load(.init(configFile: path, environment: env)))
        } catch {
            return .failure(error)
        }
    }

    func testConfigurationReadsKeysAndSecrets() throws {
        let production =
            #"{"mode":"production","data_dir":"\#(Self.dir)/data","jwt":{"public_key_file":"\#(Self.dir)/ec.pub","issuer":"https://idp.example","audience":"bedrock"}}"#
        guard case .failure(let e) = load(production, env: ["BEDROCK_JWT_JWKS_FILE": "\(Self.dir)/rsa.pub"]) else {
            return XCTFail("a PEM file is not a JWKS")
        }
        XCTAssertEqual(e.key, "jwt.jwks_file")
        XCTAssertEqual(e.source, .environment("BEDROCK_JWT_JWKS_FILE"))

        let config = try load(production, env: ["BEDROCK_JWT_PREVIOUS_SECRET": oldSecret]).get()
        XCTAssertEqual(config.jwt.secretOrigin, .none, "production with public keys needs no secret")
        XCTAssertEqual(config.jwt.secret, "")
        XCTAssertEqual(config.jwt.previousSecret, oldSecret)
        XCTAssertEqual(config.jwt.publicKeys.map(\.algorithm), [.es256])
        XCTAssertEqual(JWTVerifier(config: config).keys.algorithms, [.hs256, .es256])

        let weak = load(production, env: ["BEDROCK_JWT_PREVIOUS_SECRET": String(repeating: "ab", count: 20)])
        guard case .failure(let w) = weak else { return XCTFail("a weak previous secret is refused in production") }
        XCTAssertEqual(w.key, "jwt.previous_secret")
        XCTAssertFalse(w.description.contains("abab"), "the secret is never printed")
        let missing = load(#"{"mode":"dev","data_dir":"\#(Self.dir)/data","jwt":{"public_key_file":"/nonexistent.pem"}}"#)
        guard case .failure(let m) = missing else { return XCTFail("a missing key file is refused") }
        XCTAssertEqual(m.key, "jwt.public_key_file")
        XCTAssertEqual(m.message, #"no readable file "/nonexistent.pem""#)
    }

    func testProductionRefusesIdentityProviderKeysWithoutIssuerAndAudience() throws {
        func config(_ mode: String, _ jwt: String) -> String {
            #"{"mode":"\#(mode)","data_dir":"\#(Self.dir)/data","jwt":{"secret":"\#(secret)",\#(jwt)}}"#
        }
        let pem = #""public_key_file":"\#(Self.dir)/ec.pub""#
        guard case .failure(let both) = load(config("production", pem)) else {
            return XCTFail("a provider's keys with no issuer and audience are refused in production")
        }
        XCTAssertEqual(both.key, "jwt.issuer")
        XCTAssertEqual(
            both.message,
            "must be set (and jwt.audience) in production when jwt.public_key_file is set, or a token the identity provider issued for another application is accepted"
        )
        guard case .failure(let audience) = load(config("production", pem + #","issuer":"https://idp.example""#)) else {
            return XCTFail("an issuer alone is not enough")
        }
        XCTAssertEqual(audience.key, "jwt.audience")
        guard
            case .failure(let jwks) = load(
                config("production", #""audience":"bedrock""#), env: ["BEDROCK_JWT_JWKS_FILE": "\(Self.dir)/missing.json"])
        else { return XCTFail("a JWKS with no issuer is refused in production") }
        XCTAssertEqual(
            jwks.description,
            "config: jwt.issuer: must be set in production when jwt.jwks_file is set, or a token the identity provider issued for another application is accepted (from BEDROCK_JWT_JWKS_FILE)"
        )
        // Secrets alone need neither; dev mode starts and warns.
        XCTAssertNoThrow(try load(config("production", #""leeway_s":60"#)).get())
        let dev = try load(config("dev", pem)).get()
        XCTAssertEqual(dev.jwt.unboundTokenChecks, ["jwt.issuer", "jwt.audience"])
        XCTAssertEqual(
            dev.jwt.unboundTokenChecksWarning,
            "jwt: jwt.issuer and jwt.audience not set with jwt.public_key_file: a token the identity provider issued for another application is accepted (production refuses to start)"
        )
        let bound = try load(config("production", pem + #","issuer":"https://idp.example","audience":"bedrock""#)).get()
        XCTAssertEqual(bound.jwt.unboundTokenChecks, [])
        XCTAssertNil(bound.jwt.unboundTokenChecksWarning)
    }
}
