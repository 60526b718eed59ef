import Digests
import JWTAuth

/// One entry of `api.keys`: a backend's key, known only by the SHA-256 of its text.
public struct APIKeyEntry: Sendable, Equatable {
    /// The key's name (`[A-Za-z0-9._-]{1,64}`): what logs and identities show instead of the key.
    public let name: String
    /// The 32-byte SHA-256 of the key's text.
    public let digest: [UInt8]
    /// What a caller holding the key may do.
    public let role: Role

    public init(name: String, digest: [UInt8], role: Role) {
        self.name = name
        self.digest = digest
        self.role = role
    }

    /// True for a name `api.keys` accepts: 1-64 of `A-Z a-z 0-9 . _ -`.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2e || b == 0x5f
                || b == 0x2d
        }
    }

    /// The `key_sha256` of `key`: 64 lowercase hex digits of the SHA-256 of its UTF-8 text.
    public static func sha256Hex(ofKey key: String) -> String { SHA256.hex(key) }

    /// The 32 bytes of 64 lowercase hex digits, else nil.
    public static func digest(hex: String) -> [UInt8]? {
        let text = Array(hex.utf8)
        guard text.count == 64 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for i in stride(from: 0, to: 64, by: 2) {
            guard let high = nibble(text[i]), let low = nibble(text[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }
}

/// The API keys REST accepts (`Authorization: ApiKey <key>`): name → digest and role. A
/// presented key is hashed and compared with every digest in constant time (no early exit, so
/// the time says nothing about which digest came close). Immutable: any thread may use it.
struct APIKeyRing: Sendable {
    private let entries: [APIKeyEntry]

    /// The ring of `api.keys`.
    init(_ entries: [APIKeyEntry]) { self.entries = entries }

    /// True when no key is configured.
    var isEmpty: Bool { entries.isEmpty }

    /// The identity of the caller holding `key`: `apikey:<name>` with the key's role and no
    /// expiry; a refusal that never repeats the key when it is not one of the ring's.
    func identity(forKey key: String) -> Result<Identity, AuthRefusal> {
        let presented = SHA256.digest(Array(key.utf8))
        var found: APIKeyEntry?
        for entry in entries {
            var difference: UInt8 = 0
            for (a, b) in zip(presented, entry.digest) { difference |= a ^ b }
            if difference == 0 && found == nil { found = entry }
        }
        guard let found else { return .failure(AuthRefusal("unknown API key")) }
        return .success(
            Identity(subject: "apikey:\(found.name)", role: found.role, expiresAt: .infinity, apiKeyName: found.name))
    }
}
