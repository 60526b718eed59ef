import JWTAuth
import XCTest

@testable import Bedrock

/// `api.keys` and the key ring: entries load as digests, bad entries are refused by name, a key
/// maps to `apikey:<name>` with its role, anything else is an unknown key; the header parser.
final class APIKeyTests: ConfigFileTestCase {
    private let key = "k3y-text-for-the-ring-tests"

    private func digest(_ key: String) -> [UInt8] { APIKeyEntry.digest(hex: APIKeyEntry.sha256Hex(ofKey: key))! }

    private func entry(_ name: String, _ key: String, _ role: String) -> String {
        #"{"name":"\#(name)","key_sha256":"\#(APIKeyEntry.sha256Hex(ofKey: key))","role":"\#(role)"}"#
    }

    func testEntriesLoadAsDigestsWithTheirRoles() throws {
        let api = try load(#"{"api":{"keys":[\#(entry("backend-1", key, "ADMIN")),\#(entry("r.o_2", "other", "VIEWER"))]}}"#).api
        XCTAssertEqual(api.keys.map(\.name), ["backend-1", "r.o_2"])
        XCTAssertEqual(api.keys.map(\.role), [.admin, .viewer])
        XCTAssertEqual(api.keys[0].digest, digest(key))
        XCTAssertEqual(try load("{}").api.keys, [])
    }

    func testTheEnvironmentTakesTheListAsJSON() throws {
        let api = try load("{}", env: ["BEDROCK_API_KEYS": "[\(entry("env-key", key, "TRADER"))]"]).api
        XCTAssertEqual(api.keys.map(\.name), ["env-key"])
        XCTAssertThrowsError(try load("{}", env: ["BEDROCK_API_KEYS": "nope"])) { error in
            XCTAssertTrue("\(error)".contains("api.keys: must be a JSON array"), "\(error)")
        }
    }

    func testBadEntriesAreRefusedNamingThem() {
        let digest = APIKeyEntry.sha256Hex(ofKey: key)
        let cases: [(String, String)] = [
            (#"{"api":{"keys":{}}}"#, "api.keys: must be an array"),
            (#"{"api":{"keys":["x"]}}"#, "entry 0 must be an object"),
            (#"{"api":{"keys":[{"name":"has space","key_sha256":"\#(digest)","role":"ADMIN"}]}}"#, "entry 0: name must be"),
            (
                #"{"api":{"keys":[{"name":"\#(String(repeating: "n", count: 65))","key_sha256":"\#(digest)","role":"ADMIN"}]}}"#,
                "entry 0: name must be"
            ),
            (
                #"{"api":{"keys":[{"name":"a","key_sha256":"\#(digest.uppercased())","role":"ADMIN"}]}}"#,
                #"entry 0 ("a"): key_sha256 must be 64 lowercase hex"#
            ),
            (#"{"api":{"keys":[{"name":"a","key_sha256":"\#(digest)","role":"root"}]}}"#, #"("a"): role must be"#),
            (
                #"{"api":{"keys":[{"name":"a","key_sha256":"\#(digest)","role":"ADMIN","key":"x"}]}}"#,
                #"("a"): unknown member "key""#
            ),
            (
                #"{"api":{"keys":[\#(entry("a", key, "ADMIN")),\#(entry("a", "other", "VIEWER"))]}}"#,
                #"entry 1 ("a"): the name is used"#
            ),
            (
                #"{"api":{"keys":[\#(entry("a", key, "ADMIN")),\#(entry("b", key, "VIEWER"))]}}"#,
                #"entry 1 ("b"): the same key_sha256"#
            ),
            (#"{"api":{"secret":1}}"#, "api.secret: unknown key"),
        ]
        for (json, expected) in cases {
            XCTAssertThrowsError(try load(json), json) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(json): \(error)")
                XCTAssertFalse("\(error)".contains(digest), "the refusal repeats a digest: \(error)")
            }
        }
    }

    func testTheRingMapsAKeyToItsNameAndRole() throws {
        let ring = APIKeyRing([
            APIKeyEntry(name: "first", digest: digest("one"), role: .viewer),
            APIKeyEntry(name: "second", digest: digest(key), role: .trader),
        ])
        let identity = try ring.identity(forKey: key).get()
        XCTAssertEqual(identity.subject, "apikey:second")
        XCTAssertEqual(identity.role, .trader)
        XCTAssertEqual(identity.apiKeyName, "second")
        XCTAssertEqual(identity.expiresAt, .infinity)
        XCTAssertEqual(try ring.identity(forKey: "one").get().apiKeyName, "first")
        for wrong in [key + "x", String(key.dropLast()), "", APIKeyEntry.sha256Hex(ofKey: key)] {
            XCTAssertEqual(ring.identity(forKey: wrong), .failure(AuthRefusal("unknown API key")), wrong)
        }
        XCTAssertEqual(APIKeyRing([]).identity(forKey: key), .failure(AuthRefusal("unknown API key")))
    }

    func testTheDigestIsSHA256InLowercaseHex() {
        XCTAssertEqual(
            APIKeyEntry.sha256Hex(ofKey: "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(APIKeyEntry.digest(hex: APIKeyEntry.sha256Hex(ofKey: "abc"))?.first, 0xba)
        XCTAssertNil(APIKeyEntry.digest(hex: String(repeating: "g", count: 64)))
    }

    func testTheHeaderParser() {
        XCTAssertEqual(HTTPExchange.apiKey(in: "ApiKey abc"), "abc")
        XCTAssertEqual(HTTPExchange.apiKey(in: "  apikey \t abc  "), "abc")
        XCTAssertEqual(HTTPExchange.apiKey(in: "APIKEY"), "")
        XCTAssertEqual(HTTPExchange.apiKey(in: "ApiKey a b"), "a b")
        XCTAssertNil(HTTPExchange.apiKey(in: "Bearer abc"))
        XCTAssertNil(HTTPExchange.apiKey(in: "ApiKeys abc"))
        XCTAssertFalse(HTTPExchange.isWellFormedAPIKey("a b"))
        XCTAssertFalse(HTTPExchange.isWellFormedAPIKey(""))
        XCTAssertFalse(HTTPExchange.isWellFormedAPIKey(String(repeating: "k", count: 257)))
        XCTAssertTrue(HTTPExchange.isWellFormedAPIKey("33ceIzSQ9A6mMVVYfgBVU7NJFxUq06e9PU-uU5ePjpk"))
    }
}
