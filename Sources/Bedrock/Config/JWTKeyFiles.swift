import Foundation
import JWTAuth

/// Reads the identity-provider keys named by `jwt.public_key_file` (one PEM public key) and
/// `jwt.jwks_file` (a JWKS): at start-up, where a file that cannot be read or holds no usable
/// key refuses to start naming the key, and again when a token names a key id no key holds
/// (`KeyReloadingVerifier`). A message never repeats the file's content.
enum JWTKeyFiles {
    /// Largest key file read, in bytes (a JWKS of a few dozen keys is a few tens of KiB).
    static let maxFileBytes = 1 << 20

    /// The keys of both files named in `raw` (the PEM key first, then the JWKS's in file order);
    /// an error names where the key was set.
    static func load(_ raw: RawConfig) throws(ConfigError) -> [JWTPublicKey] {
        try load(
            publicKeyFile: try raw.optionalString("jwt.public_key_file"), jwksFile: try raw.optionalString("jwt.jwks_file"),
            source: { raw.source(of: $0) })
    }

    /// The keys of `publicKeyFile` then `jwksFile`, either of which may be absent; `source`
    /// tells an error where the key was set.
    static func load(
        publicKeyFile: String?, jwksFile: String?, source: (String) -> ConfigSource? = { _ in nil }
    ) throws(ConfigError) -> [JWTPublicKey] {
        var keys: [JWTPublicKey] = []
        if let path = publicKeyFile {
            let source = source("jwt.public_key_file")
            switch JWTPublicKey.fromPEM(try read(path, key: "jwt.public_key_file", source: source)) {
            case let .success(key): keys.append(key)
            case let .failure(e):
                throw ConfigError(key: "jwt.public_key_file", message: "\(path) \(e.message)", source: source)
            }
        }
        if let path = jwksFile {
            let source = source("jwt.jwks_file")
            switch JWKS.parse(try read(path, key: "jwt.jwks_file", source: source)) {
            case let .success(set): keys += set
            case let .failure(e): throw ConfigError(key: "jwt.jwks_file", message: "\(path) \(e.message)", source: source)
            }
        }
        return keys
    }

    private static func read(_ path: String, key: String, source: ConfigSource?) throws(ConfigError) -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeRegular,
            let data = FileManager.default.contents(atPath: path)
        else {
            throw ConfigError(key: key, message: "no readable file \"\(path)\"", source: source)
        }
        guard data.count <= maxFileBytes else {
            throw ConfigError(key: key, message: "\(path) is larger than \(maxFileBytes) bytes", source: source)
        }
        return [UInt8](data)
    }
}
