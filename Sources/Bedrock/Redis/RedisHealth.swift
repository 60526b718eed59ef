import Dispatch
import Foundation
import Logging
import RedisClient
import Synchronization

/// Whether Redis answers commands now, as the API sees it: the circuit breaker in front of the
/// Redis-bound methods (`MethodTable.redisHealth`) and half of `/ready`.
///
/// Down as soon as a call answers UNAVAILABLE (`suspect()`) or a probe fails; up again as soon as
/// a probe's `PING` is answered. One probe thread (`bedrock-redis-probe`) with a connection of its
/// own PINGs every `upInterval` while up — so a Redis that hangs with no API traffic shows on
/// `/ready` within that plus `timeout` — every `downInterval` while down, and at once after a
/// `suspect()`. Each connect and PING is bounded by `timeout` (`redis.command_timeout_ms`). A
/// false alarm (a call answered UNAVAILABLE for another reason) lasts one PING round trip.
public final class RedisHealth: Sendable {
    private struct State {
        var answering = true
        var stopping = false
    }

    private let state = Mutex(State())
    /// Wakes the probe thread early (a suspicion, or `stop()`).
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let address: RedisAddress
    private let timeout: Double
    private let upInterval: Double
    private let downInterval: Double
    private let log = Logger(label: "bedrock.redis")

    /// A breaker for the Redis at `address`; `timeout` seconds bound each probe. Call `start()`.
    public init(address: RedisAddress, timeout: Double, upInterval: Double = 0.5, downInterval: Double = 0.1) {
        self.address = address
        self.timeout = timeout
        self.upInterval = upInterval
        self.downInterval = downInterval
    }

    /// False from a failure until a probe is answered again.
    public var isAnswering: Bool { state.withLock { $0.answering } }

    /// A Redis-bound call failed or ran out of time (any thread): refuse new ones until a probe,
    /// started at once, is answered.
    public func suspect() {
        let wasAnswering = state.withLock { s -> Bool in
            defer { s.answering = false }
            return s.answering
        }
        guard wasAnswering else { return }
        log.warning("redis: a request found it not answering; requests that need it are refused until a PING is answered")
        wake.signal()
    }

    /// Start the probe thread.
    public func start() {
        let thread = Thread { [self] in probeUntilStopped() }
        thread.name = "bedrock-redis-probe"
        thread.start()
    }

    /// Stop the probe thread; waits for it at most `timeout` plus half a second (a PING in flight).
    public func stop() {
        state.withLock { $0.stopping = true }
        wake.signal()
        _ = finished.wait(timeout: .now() + timeout + 0.5)
    }

    private func probeUntilStopped() {
        var connection: RedisConnection?
        while true {
            let answering = state.withLock { $0.answering }
            _ = wake.wait(timeout: .now() + (answering ? upInterval : downInterval))
            if state.withLock({ $0.stopping }) { break }
            let failure = probe(&connection)
            let changed = state.withLock { s -> Bool in
                defer { s.answering = failure == nil }
                return s.answering != (failure == nil)
            }
            if changed, let failure {
                log.warning("redis: PING failed (\(failure)); requests that need Redis are refused")
            } else if changed {
                log.info("redis: answering again")
            }
        }
        finished.signal()
    }

    /// One PING on the probe's connection (opened again when it broke): nil when answered, else
    /// what went wrong.
    private func probe(_ connection: inout RedisConnection?) -> String? {
        do {
            if connection == nil || connection?.isBroken == true {
                connection = try RedisConnection(address, connectTimeout: timeout, readTimeout: timeout)
            }
            guard let open = connection else { return "no connection" }
            let reply = try open.command(["PING"])
            return reply == .status("PONG") ? nil : "answered \(reply)"
        } catch {
            connection = nil
            return "\(error)"
        }
    }
}
