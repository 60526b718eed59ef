import ArgumentParser
import Bedrock
import Foundation
import JWTAuth

/// `bedrock token --sub ID --role ADMIN|TRADER|VIEWER [--ttl SECONDS]` (SPEC §2): prints a JWT
/// signed with the configured secret (in dev mode the one in `<data_dir>/jwt.secret`, shared
/// with `bedrock serve`; never with `jwt.previous_secret`). Bad arguments: one line on stderr,
/// exit 2. Configuration errors, and a configuration with no secret (public keys only): one line
/// on stderr, exit 1.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a signed JWT for a subject and role, using the configured secret.")

    @OptionGroup var configOptions: ConfigOptions

    // Taken as text and checked in `run`, so a bad value gives one line and exit 2 (SPEC §2).
    @Option(help: "Subject: who the token is for (1-256 bytes).")
    var sub: String?

    @Option(help: "Role: ADMIN, TRADER or VIEWER.")
    var role: String?

    @Option(help: "Lifetime in seconds (default 3600).")
    var ttl: String?

    /// Longest accepted lifetime: ten years.
    static let maxTTL: Int64 = 315_360_000

    func run() throws {
        guard let sub, !sub.isEmpty else { throw Self.usage("--sub is required (who the token is for)") }
        guard sub.utf8.count <= JWTVerifier.maxSubjectBytes else {
            throw Self.usage("--sub must be at most \(JWTVerifier.maxSubjectBytes) bytes")
        }
        guard let roleText = role else { throw Self.usage("--role is required: ADMIN, TRADER or VIEWER") }
        guard let role = Role(rawValue: roleText) else {
            throw Self.usage("--role must be ADMIN, TRADER or VIEWER, got '\(roleText)'")
        }
        var lifetime: Int64 = 3600
        if let ttl {
            guard let n = Int64(ttl), n >= 1, n <= Self.maxTTL else {
                throw Self.usage("--ttl must be a whole number of seconds 1-\(Self.maxTTL), got '\(ttl)'")
            }
            lifetime = n
        }
        let config: GatewayConfig
        do {
            config = try GatewayConfig.load(.init(configFile: configOptions.configFile, dataDir: configOptions.dataDir))
        } catch {
            Self.stderr("bedrock token: \(error)")
            throw ExitCode(1)
        }
        if config.jwt.secretOrigin == .none {
            Self.stderr(
                "bedrock token: cannot sign: no jwt.secret is configured (this gateway only verifies identity-provider tokens, jwt.public_key_file / jwt.jwks_file)"
            )
            throw ExitCode(1)
        }
        if case let .devFileCreated(path) = config.jwt.secretOrigin {
            Self.stderr("bedrock token: created dev secret \(path)")
        }
        let token = JWTSigner(config: config).sign(sub: sub, role: role, ttl: lifetime)
        FileHandle.standardOutput.write(Data((token + "\n").utf8))
    }

    private static func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One line on stderr, exit 2.
    private static func usage(_ message: String) -> ExitCode {
        stderr("bedrock token: \(message)")
        return ExitCode(2)
    }
}
