import Foundation
import JSONCodec
import Logging
import RedisClient
import Synchronization

/// What `/health/startup` answers (SPEC §13): 503 `starting` with each step's state until the
/// configuration is loaded (it is, once this exists), Redis has answered, the ledger's Lua
/// scripts are loaded into it and every service loop runs; then 200 `started`, for good (a
/// startup probe asks once: later outages are `/health/ready`'s business).
///
/// Threading: the steps are a `Mutex`; a thread of its own (`bedrock-startup`) connects to
/// Redis and loads the scripts, retrying until it succeeds or `stop()`; loops report from their
/// own threads.
public final class StartupProbe: Sendable {
    private struct State {
        var redis = false
        var scripts = false
        var loopsRunning: Set<Int> = []
        var stopping = false
        var lastFailure: String?
    }

    private let state = Mutex(State())
    private let loops: Int
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let log = Logger(label: "bedrock.startup")
    /// Pause between attempts while Redis does not answer.
    static let retryInterval = 0.25

    /// A probe waiting for `loops` service loops.
    public init(loops: Int) { self.loops = loops }

    /// Service loop `index` runs (its thread, once it serves).
    func loopRunning(_ index: Int) {
        state.withLock { _ = $0.loopsRunning.insert(index) }
    }

    /// The `/health/startup` answer: status code and body.
    func answer() -> (status: Int, body: JSONValue) {
        let s = state.withLock { $0 }
        let running = s.loopsRunning.count >= loops
        guard !(s.redis && s.scripts && running) else { return (200, ["status": "started"]) }
        let checks: JSONObject = [
            "configuration": "loaded", "redis": .string(s.redis ? "up" : "waiting"),
            "scripts": .string(s.scripts ? "loaded" : "waiting"),
            "service_loops": .string("\(s.loopsRunning.count)/\(loops) running"),
        ]
        return (503, ["status": "starting", "checks": .object(checks)])
    }

    /// Connect to Redis at `address` and load `scripts` on a thread of its own, retrying until done.
    public func start(address: RedisAddress, scripts: ScriptRunner, timeout: Double) {
        let thread = Thread { [self] in
            loadScripts(address: address, scripts: scripts, timeout: timeout)
            finished.signal()
        }
        thread.name = "bedrock-startup"
        thread.start()
    }

    /// Stop retrying; waits at most `timeout` plus half a second for an attempt in flight.
    public func stop(timeout: Double) {
        state.withLock { $0.stopping = true }
        wake.signal()
        _ = finished.wait(timeout: .now() + timeout + 0.5)
    }

    private func loadScripts(address: RedisAddress, scripts: ScriptRunner, timeout: Double) {
        while !state.withLock({ $0.stopping }) {
            do {
                let connection = try RedisConnection(address, connectTimeout: timeout, readTimeout: timeout)
                _ = try connection.command(["PING"]).checked()
                state.withLock { $0.redis = true }
                try scripts.loadAll(on: connection)
                state.withLock { $0.scripts = true }
                log.info("startup: Redis answered, \(ScriptRunner.names.count) ledger scripts loaded")
                return
            } catch {
                let message = "\(error)"
                let repeated = state.withLock { s -> Bool in
                    defer { s.lastFailure = message }
                    return s.lastFailure == message
                }
                if !repeated { log.notice("startup: waiting for Redis", metadata: ["error": .string(message)]) }
            }
            _ = wake.wait(timeout: .now() + StartupProbe.retryInterval)
        }
    }
}
