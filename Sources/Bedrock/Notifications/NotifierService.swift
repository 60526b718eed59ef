import Foundation
import GatewayCore
import Logging
import RedisClient

/// Delivers the events of the configured topics to webhooks and Telegram (SPEC §14,
/// docs/NOTIFICATIONS.md), on threads of its own — never an event loop.
///
/// - Each target reads each of its topics' streams (`<prefix>stream:<topic>`) through its own
///   consumer group `<prefix>notify:<target>`, created at `$` (events from then on): with several
///   gateways on one Redis every event goes to one of them, once per target.
/// - A target has `threads` delivery threads (`NotifierWorker`), each with its own Redis
///   connection, its own HTTP client (connections kept alive) and its own consumer name; the group
///   shares the events among them, so several deliveries are in flight at once.
/// - A failed delivery is acknowledged in the stream and moved, in one `MULTI`, into the target's
///   retry set `<prefix>notifications:retry:<target>` (a sorted set scored by when it is due); at
///   the end of the retry window it goes to `<prefix>notifications:dead` instead. All waiting work
///   is in Redis: memory stays bounded however long a receiver is down, and a restarted gateway
///   (or another one) picks it up: due retries are claimed with a lease, and events read by a
///   gateway that stopped mid-way are taken over with `XAUTOCLAIM` after `timeout_s + claim_idle_s`.
/// - Each target has a circuit (`circuit.failure_threshold` failures in a row — no answer or a 5xx
///   — open it for `circuit.cooldown_s`): while it is open, deliveries are not sent but go straight
///   to the retry set, so a receiver that hangs does not hold every thread for `timeout_s` per event.
///
/// `start` and `stop` are called once each, from the thread running `GatewayRuntime`.
public final class NotifierService: Sendable {
    private let workers: [NotifierWorker]
    private let log = Logger(label: "bedrock.notifications")

    /// The service for `config.notifications` (nil when no target is configured).
    public init?(config: GatewayConfig, address: RedisAddress, registry: MetricsRegistry, clock: any GatewayClock) {
        let n = config.notifications
        guard n.enabled else { return nil }
        let targets = NotificationTarget.all(n)
        let metrics = NotificationMetrics(targets: targets, registry: registry)
        let policy = DeliveryPolicy(retryWindow: n.retryWindowS, baseDelay: n.backoffBaseS, maxDelay: n.backoffMaxS)
        let instance = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let keys = NotifierKeys(prefix: config.redis.prefix)
        var workers: [NotifierWorker] = []
        let log = log
        for target in targets {
            let circuit = SharedCircuitBreaker(
                dependency: target.name, failureThreshold: config.circuit.failureThreshold,
                cooldown: config.circuit.cooldownS, clock: clock
            ) { transition in
                switch transition {
                case .opened(let failures):
                    log.warning(
                        "notifications: \(target.name): circuit opened after \(failures) failures in a row; deliveries wait in the retry set"
                    )
                case .closed: log.info("notifications: \(target.name): circuit closed, delivering again")
                }
            }
            for index in 0..<target.threads {
                workers.append(
                    NotifierWorker(
                        target: target, consumer: "\(instance)-\(index)", keys: keys, settings: n, policy: policy,
                        address: address, metrics: metrics, clock: clock, circuit: circuit,
                        // One thread over all targets refreshes the pending gauge.
                        gauge: workers.isEmpty ? targets : nil))
            }
        }
        self.workers = workers
    }

    /// Starts every delivery thread.
    public func start() {
        for worker in workers { worker.start() }
        log.info("notifications: \(workers.count) delivery threads started")
    }

    /// Asks every thread to stop and waits up to `timeout` seconds for them: a thread in the middle
    /// of a POST may outlive it; what it leaves unfinished stays pending in Redis.
    public func stop(timeout: Double = 3) {
        for worker in workers { worker.requestStop() }
        let deadline = Date().addingTimeInterval(timeout)
        for worker in workers { worker.wait(until: deadline) }
    }
}

/// The Redis keys of notifications (docs/REDIS_LAYOUT.md).
struct NotifierKeys: Sendable {
    let prefix: String

    /// The stream of a configured topic name.
    func stream(_ topic: String) -> String { prefix + "stream:" + topic }
    /// The consumer group of a target on each of its streams.
    func group(_ target: String) -> String { prefix + "notify:" + target }
    /// A target's retry set.
    func retries(_ target: String) -> String { prefix + "notifications:retry:" + target }
    /// The dead-letter stream.
    var dead: String { prefix + "notifications:dead" }
}
