import Prometheus
import Synchronization

/// Every metric of one gateway process, in one Prometheus registry: the only place that renders
/// `/metrics` (the registry escapes label values). Metrics are bound to their labels once and
/// kept by whoever counts; values that are only known at scrape time (gauges, totals kept
/// elsewhere) are set by the hooks added with `onScrape`.
public final class MetricsRegistry: Sendable {
    /// The underlying registry (swift-prometheus, thread-safe).
    public let prometheus: PrometheusCollectorRegistry
    /// The scrape hooks; holding this lock also makes scrapes run one at a time.
    private let hooks = Mutex<[@Sendable () -> Void]>([])

    /// An empty registry.
    public init() { prometheus = PrometheusCollectorRegistry() }

    /// The counter `name` with `labels` (created at first use, the same object afterwards).
    /// Every series of one name must be made with the same `help`.
    public func counter(_ name: String, help: String, labels: [(String, String)] = []) -> Counter {
        prometheus.makeCounter(descriptor: descriptor(name, help), labels: labels)
    }

    /// The gauge `name` with `labels`.
    public func gauge(_ name: String, help: String, labels: [(String, String)] = []) -> Gauge {
        prometheus.makeGauge(descriptor: descriptor(name, help), labels: labels)
    }

    /// The histogram `name` with fixed bucket upper bounds.
    public func histogram(_ name: String, help: String, buckets: [Double]) -> ValueHistogram {
        prometheus.makeValueHistogram(descriptor: descriptor(name, help), labels: [], buckets: buckets)
    }

    /// A full metric name as a descriptor (no namespace or unit parts of its own).
    private func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Run `hook` before every render (scrapes run one at a time, so a hook needs no lock of
    /// its own for state only it touches).
    public func onScrape(_ hook: @escaping @Sendable () -> Void) {
        hooks.withLock { $0.append(hook) }
    }

    /// The page in the Prometheus text format, after the scrape hooks ran (any thread).
    public func render() -> String {
        hooks.withLock { hooks in
            for hook in hooks { hook() }
            return prometheus.emitToString()
        }
    }
}

/// A registry counter that follows a total counted elsewhere (a loop's plain integer, the
/// ledger in Redis, a bridge thread's stats): `publish` adds what is new since the last call.
/// Not thread-safe: one owner publishes.
public struct CounterMirror {
    private let counter: Counter
    private var published: Int64 = 0

    /// Mirrors into `counter`.
    public init(_ counter: Counter) { self.counter = counter }

    /// Bring the counter to `total` (a total that went down, e.g. a wiped ledger, starts over).
    public mutating func publish(_ total: Int64) {
        if total < published {
            counter.reset()
            published = 0
        }
        if total > published { counter.increment(by: total - published) }
        published = total
    }

    /// `publish` for an `Int` total.
    public mutating func publish(_ total: Int) { publish(Int64(total)) }
}

/// A count kept by one service loop in a plain integer — no atomic or lock on the hot path —
/// and added to its registry counter when `/metrics` is scraped (`publish`, on the loop's own
/// thread). Several loops may keep counts for the same registry counter; the page shows their sum.
final class LoopCounter {
    private(set) var value = 0
    private var mirror: CounterMirror

    init(_ counter: Counter) { mirror = CounterMirror(counter) }

    @inline(__always) func add(_ n: Int = 1) { value &+= n }

    /// Add what was counted since the last scrape to the registry counter.
    func publish() { mirror.publish(value) }
}
