import Bedrock
import JWTAuth

/// JWTs for the connections: the given `--token`, or up to `--subjects` (1,000) distinct subjects
/// signed with the secret before connecting (so signing is not part of the measured storm), used
/// round-robin.
enum Tokens {
    static func make(_ options: Options) -> [String] {
        if let token = options.token { return [token] }
        let signer = JWTSigner(secret: options.jwtSecret ?? "", issuer: options.jwtIssuer, audience: options.jwtAudience)
        let ttl = Int64(max(3600, options.duration * 2 + options.phaseTimeout * 3))
        return (0..<min(options.connections, options.subjects)).map {
            signer.sign(sub: "\(options.subjectPrefix)\($0)", role: .viewer, ttl: ttl)
        }
    }
}
