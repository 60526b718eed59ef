import Prometheus

/// The notifier's series on `/metrics` (docs/NOTIFICATIONS.md). Labels hold target names only,
/// never a URL, a secret or the bot token.
///
/// | metric | type | meaning |
/// |---|---|---|
/// | `bedrock_webhook_deliveries_total{webhook,result}` | counter | attempts by this gateway per webhook: `delivered` (2xx), `retried` (failed, a retry scheduled), `held` (not sent, the circuit being open: a retry scheduled), `dead` (failed at the end of the retry window: into the dead-letter stream) |
/// | `bedrock_telegram_messages_total{result}` | counter | the same for Telegram (`sent`, `retried`, `held`, `dead`), and `skipped`: events of its topics that make no message |
/// | `bedrock_notifications_pending` | gauge | deliveries not finished, over every gateway sharing the Redis: waiting in the retry sets plus read and not yet acknowledged |
final class NotificationMetrics: Sendable {
    /// How one delivery attempt ended, as counted.
    enum Result: String, CaseIterable {
        case delivered, retried, dead, skipped
        /// Not sent because the target's circuit is open: moved to the retry set, not an attempt.
        case held
    }

    private let counters: [String: [Result: Counter]]
    private let pending: Gauge

    /// The series of `targets` in `registry` (every label pair present from the start).
    init(targets: [NotificationTarget], registry: MetricsRegistry) {
        var counters: [String: [Result: Counter]] = [:]
        for target in targets {
            for result in Result.allCases {
                if target.isTelegram {
                    counters[target.name, default: [:]][result] = registry.counter(
                        "bedrock_telegram_messages_total", help: "Telegram messages by result.",
                        labels: [("result", result == .delivered ? "sent" : result.rawValue)])
                } else if result != .skipped {
                    counters[target.name, default: [:]][result] = registry.counter(
                        "bedrock_webhook_deliveries_total", help: "Webhook delivery attempts by webhook and result.",
                        labels: [("webhook", target.name), ("result", result.rawValue)])
                }
            }
        }
        self.counters = counters
        pending = registry.gauge("bedrock_notifications_pending", help: "Notifications waiting for delivery or a retry.")
    }

    /// Counts one attempt of `target` that ended with `result`.
    func count(_ target: String, _ result: Result) { counters[target]?[result]?.increment() }

    /// Sets the pending gauge.
    func setPending(_ n: Int) { pending.set(Double(n)) }
}
