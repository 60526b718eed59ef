import ArgumentParser
import Bedrock

/// `bedrock apikey [--name NAME] [--role ROLE]`: prints a new random API key (32 bytes from the
/// system's secure generator, base64url) and the `api.keys` entry that accepts it, holding only
/// the key's SHA-256. The key is shown once; the gateway never stores or logs it.
struct APIKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Print a new random API key and its key_sha256 for api.keys.")

    @Option(help: "The key's name in api.keys (1-64 of A-Z a-z 0-9 . _ -).")
    var name = "backend-1"

    @Option(help: "Role of the key: ADMIN, TRADER or VIEWER.")
    var role = "VIEWER"

    func run() throws {
        guard APIKeyEntry.isValidName(name) else { throw ValidationError("--name must be 1-64 of A-Z a-z 0-9 . _ -") }
        guard ["ADMIN", "TRADER", "VIEWER"].contains(role) else {
            throw ValidationError("--role must be ADMIN, TRADER or VIEWER, got '\(role)'")
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let key = Self.base64URL(bytes)
        let digest = APIKeyEntry.sha256Hex(ofKey: key)
        print("key: \(key)")
        print("key_sha256: \(digest)")
        print(#"api.keys entry: {"name": "\#(name)", "key_sha256": "\#(digest)", "role": "\#(role)"}"#)
        print("Send it as: Authorization: ApiKey \(key)")
    }

    /// Base64url without padding (RFC 4648 §5).
    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let chunk = bytes[i..<min(i + 3, bytes.count)]
            var n = 0
            for (k, b) in chunk.enumerated() { n |= Int(b) << (16 - 8 * k) }
            for k in 0...chunk.count { out.append(alphabet[(n >> (18 - 6 * k)) & 63]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
