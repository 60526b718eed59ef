import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// JWT secret rules (SPEC §3).
///
/// - A configured secret (`jwt.secret` / `BEDROCK_JWT_SECRET`, and `jwt.previous_secret`) must
///   be at least 32 bytes, in every mode.
/// - Production: no configured secret refuses to start (unless public keys are configured: then
///   the gateway only verifies), and so does a weak one: only
///   whitespace, or fewer than `minimumDistinctBytes` different byte values (32 spaces, `aaaa…`,
///   `abababab…`). A random hex, base64 or passphrase secret passes easily.
/// - Dev: with no configured secret, `<data_dir>/jwt.secret` is read, or created (48 random bytes
///   from `/dev/urandom` as 96 hex characters, mode 0600, directory created with 0700). Creation
///   is atomic (written to a temporary file, then hard-linked into place), so two processes
///   starting together agree on one secret. `bedrock token` and `bedrock serve` with the same
///   data directory therefore share it.
public enum JWTSecret {
    /// The least secret length in bytes.
    public static let minimumBytes = 32
    /// The least number of different byte values in a production secret.
    public static let minimumDistinctBytes = 8
    /// The dev secret file name inside the data directory.
    public static let fileName = "jwt.secret"

    /// Returns the secret in effect and where it came from. With `publicKeys` (a PEM or JWKS key
    /// configured), production needs no secret: then the secret is empty and its origin `.none`.
    public static func resolve(
        configured: String?, source: ConfigSource, mode: GatewayConfig.Mode,
        dataDir: String, publicKeys: Bool = false
    ) throws(ConfigError) -> (String, JWTSecretOrigin) {
        if let s = configured {
            try check(s, key: "jwt.secret", source: source, mode: mode)
            return (s, .configured)
        }
        guard mode == .dev else {
            if publicKeys { return ("", .none) }
            throw ConfigError(
                key: "jwt.secret",
                message: "required in production mode: set BEDROCK_JWT_SECRET or jwt.secret (at least \(minimumBytes) bytes)")
        }
        let path = (dataDir as NSString).appendingPathComponent(fileName)
        if let existing = try readSecretFile(path) { return (existing, .devFile(path)) }
        let created = try createSecretFile(path, dataDir: dataDir)
        return created
    }

    /// Refuses a configured secret (`key` names it: `jwt.secret`, `jwt.previous_secret`) shorter
    /// than `minimumBytes`, or weak in production. The message never repeats the secret.
    public static func check(
        _ secret: String, key: String, source: ConfigSource, mode: GatewayConfig.Mode
    ) throws(ConfigError) {
        guard secret.utf8.count >= minimumBytes else {
            throw ConfigError(
                key: key, message: "must be at least \(minimumBytes) bytes, got \(secret.utf8.count)", source: source)
        }
        if mode == .production, let weakness = weakness(secret) {
            throw ConfigError(key: key, message: weakness, source: source)
        }
    }

    /// Why `secret` is too weak for production, or nil: only whitespace, or fewer than
    /// `minimumDistinctBytes` different bytes. The message never repeats the secret.
    static func weakness(_ secret: String) -> String? {
        if secret.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            return "is only whitespace; use a random secret (e.g. `openssl rand -hex 32`)"
        }
        let distinct = Set(secret.utf8).count
        guard distinct >= minimumDistinctBytes else {
            return
                "is too weak: \(distinct) different byte value(s), at least \(minimumDistinctBytes) needed in production; use a random secret (e.g. `openssl rand -hex 32`)"
        }
        return nil
    }

    /// Reads the dev secret; `nil` when the file does not exist.
    static func readSecretFile(_ path: String) throws(ConfigError) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigError(key: "jwt.secret", message: "cannot read dev secret file \(path)")
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard secret.utf8.count >= minimumBytes else {
            throw ConfigError(
                key: "jwt.secret",
                message: "dev secret file \(path) holds fewer than \(minimumBytes) bytes; delete it to make a new one")
        }
        return secret
    }

    private static func createSecretFile(_ path: String, dataDir: String) throws(ConfigError) -> (String, JWTSecretOrigin) {
        do {
            try FileManager.default.createDirectory(
                atPath: dataDir, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw ConfigError(key: "data_dir", message: "cannot create directory \(dataDir): \(error.localizedDescription)")
        }
        guard let bytes = randomBytes(48) else {
            throw ConfigError(key: "jwt.secret", message: "cannot read /dev/urandom to create a dev secret")
        }
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let tmp = path + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            throw ConfigError(key: "jwt.secret", message: "cannot create \(tmp): \(String(cString: strerror(errno)))")
        }
        let line = hex + "\n"
        let ok = line.utf8CString.withUnsafeBufferPointer { buf in
            write(fd, buf.baseAddress, buf.count - 1) == buf.count - 1
        }
        fchmod(fd, 0o600)
        fsync(fd)
        close(fd)
        defer { unlink(tmp) }
        guard ok else { throw ConfigError(key: "jwt.secret", message: "cannot write \(tmp)") }
        if link(tmp, path) != 0 {
            if errno == EEXIST, let other = try readSecretFile(path) { return (other, .devFile(path)) }
            throw ConfigError(key: "jwt.secret", message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        return (hex, .devFileCreated(path))
    }

    /// `count` bytes from `/dev/urandom`, or `nil` if it cannot be read.
    static func randomBytes(_ count: Int) -> [UInt8]? {
        let fd = open("/dev/urandom", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
            if n <= 0 { return nil }
            got += n
        }
        return out
    }
}
