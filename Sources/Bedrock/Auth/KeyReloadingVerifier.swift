import Foundation
import GatewayCore
import JWTAuth
import Logging
import Synchronization

/// The JWT verifier in effect, re-built when the identity provider's key files change: a token
/// naming a `kid` no key holds (the provider rotated its signing key) starts a re-read of
/// `jwt.public_key_file` and `jwt.jwks_file` on a background thread, at most once every
/// `minInterval` seconds; the new key set replaces the old one in one swap. A re-read that fails
/// keeps the keys in use and logs a warning naming the key and path, never the file's content.
///
/// Threading: `verify` runs on any thread (the service loops) and never touches a file: it reads
/// the current verifier under the `Mutex` and at most hands the re-read to `runInBackground`.
final class KeyReloadingVerifier: Sendable {
    /// Shortest time between two re-reads of the key files, seconds.
    static let minInterval: Double = 30

    private struct State {
        var verifier: JWTVerifier
        /// Monotonic time of the last re-read started; none since start-up when nil.
        var lastReload: Double?
        var reloading = false
    }

    private let state: Mutex<State>
    private let config: GatewayConfig
    private let clock: any GatewayClock
    private let runInBackground: @Sendable (@escaping @Sendable () -> Void) -> Void
    private static let log = Logger(label: "bedrock.auth")

    /// A verifier for `config`'s secrets and keys. `runInBackground` runs a re-read off the
    /// caller's thread (a new thread by default; tests queue it and run it when they choose).
    init(
        config: GatewayConfig, clock: any GatewayClock,
        runInBackground: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void = { work in Thread(block: work).start() }
    ) {
        self.config = config
        self.clock = clock
        self.runInBackground = runInBackground
        state = Mutex(State(verifier: JWTVerifier(config: config)))
    }

    /// The verifier in effect.
    var current: JWTVerifier { state.withLock { $0.verifier } }

    /// Verifies `token` with the keys in effect; an unknown `kid` also asks for a re-read.
    func verify(_ token: String) -> Result<Claims, AuthFailure> {
        let outcome = current.verify(token)
        if case .failure(.unknownKey) = outcome { requestReload() }
        return outcome
    }

    /// Starts a re-read of the key files unless one is running or the last one started less than
    /// `minInterval` ago. (Only public keys, all read from the files, make a kid unknown.)
    func requestReload() {
        let now = clock.read().monotonic
        let start = state.withLock { s -> Bool in
            guard !s.reloading, s.lastReload.map({ now - $0 >= Self.minInterval }) ?? true else { return false }
            s.reloading = true
            s.lastReload = now
            return true
        }
        if start { runInBackground { self.reload() } }
    }

    private func reload() {
        let keys: [JWTPublicKey]
        do {
            keys = try JWTKeyFiles.load(publicKeyFile: config.jwt.publicKeyFile, jwksFile: config.jwt.jwksFile)
        } catch {
            state.withLock { $0.reloading = false }
            Self.log.warning(
                "jwt: re-reading \(error.key ?? "the key files") failed (\(error.message)); the keys in use are kept")
            return
        }
        var updated = config
        updated.jwt.publicKeys = keys
        let verifier = JWTVerifier(config: updated)
        state.withLock { s in
            s.verifier = verifier
            s.reloading = false
        }
        Self.log.info("jwt: key files re-read, \(keys.count) public key(s) in use")
    }
}
