import Prometheus
import RedisClient

/// The Redis high-availability metrics, brought up to date at each scrape:
/// `bedrock_redis_failovers_total` (a new connection reached a master other than the one before,
/// Sentinel addresses only), `bedrock_redis_master_info{address}` (1 for the master reached last,
/// 0 for earlier ones) and `bedrock_redis_replica_ack_failures_total` (ledger writes too few
/// replicas acknowledged, `redis.min_replicas_to_ack`).
final class RedisFailoverMetrics {
    private let registry: MetricsRegistry
    private var failovers: CounterMirror
    private var ackFailures: CounterMirror
    private var shownMaster: String?

    private init(registry: MetricsRegistry) {
        self.registry = registry
        failovers = CounterMirror(
            registry.counter(
                "bedrock_redis_failovers_total",
                help: "Times a Redis connection reached a different master than the one before (Sentinel failover)."))
        ackFailures = CounterMirror(
            registry.counter(
                "bedrock_redis_replica_ack_failures_total",
                help: "Ledger writes fewer replicas than redis.min_replicas_to_ack acknowledged in time (answered UNAVAILABLE)."))
    }

    /// Adds the scrape hook publishing the metrics of `address` and `ledger` into `registry`.
    static func register(address: RedisAddress, ledger: Ledger, in registry: MetricsRegistry) {
        let metrics = UncheckedBox(RedisFailoverMetrics(registry: registry))
        let watch: SentinelWatch?
        if case .sentinel(let service) = address.transport { watch = service.watch } else { watch = nil }
        registry.onScrape { metrics.value.publish(watch: watch, ledger: ledger) }
    }

    /// Runs in the scrape hook (scrapes run one at a time, so the mirrors need no lock).
    private func publish(watch: SentinelWatch?, ledger: Ledger) {
        ackFailures.publish(ledger.replicaAckFailures)
        guard let watch else { return }
        failovers.publish(Int64(watch.failovers))
        guard let master = watch.master?.description, master != shownMaster else { return }
        if let shownMaster { info(shownMaster).set(to: 0.0) }
        info(master).set(to: 1.0)
        shownMaster = master
    }

    private func info(_ address: String) -> Gauge {
        registry.gauge(
            "bedrock_redis_master_info", help: "1 for the Redis master the gateway reached last (Sentinel), 0 for earlier ones.",
            labels: [("address", address)])
    }
}
