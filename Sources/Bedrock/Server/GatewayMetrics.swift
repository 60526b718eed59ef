import Foundation

/// Counters and histograms for `/metrics`, kept by each service loop on its own thread (no
/// locks on the hot path). `/metrics` gathers every loop's `MetricsShare` and renders their sum
/// in the Prometheus text format.
final class GatewayMetrics {
    private var counters: [String: [String: Int]] = [:]
    private var httpLatency = Histogram(bounds: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1])
    private var deliveryLatency = Histogram(bounds: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5])
    /// WebSocket frames written (a batch counts once).
    var framesOut = 0
    /// Events/frames delivered inside those frames.
    var eventsOut = 0

    /// Add `by` to counter `name` with a label set like `code="4401"`.
    func count(_ name: String, labels: String = "", by: Int = 1) {
        counters[name, default: [:]][labels, default: 0] += by
    }

    func observeHTTP(route: String, status: Int, seconds: Double) {
        count("bedrock_http_requests_total", labels: "route=\"\(route)\",status=\"\(status)\"")
        httpLatency.observe(seconds)
    }

    /// Time from the stream append (the entry id's milliseconds) to fan-out on the loop.
    func observeDelivery(_ seconds: Double) { deliveryLatency.observe(max(0, seconds)) }

    /// A copy of everything recorded so far, with the loop's gauges, for `/metrics`.
    func share(queuedFrames: Int, topics: Set<String>) -> MetricsShare {
        MetricsShare(counters: counters, httpLatency: httpLatency, deliveryLatency: deliveryLatency,
                     framesOut: framesOut, eventsOut: eventsOut, queuedFrames: queuedFrames, topics: topics)
    }
}

/// One service loop's part of `/metrics`; the parts of all loops add up to the gateway's page.
struct MetricsShare: Sendable {
    var counters: [String: [String: Int]]
    var httpLatency: Histogram
    var deliveryLatency: Histogram
    var framesOut: Int
    var eventsOut: Int
    /// Frames waiting in this loop's send queues.
    var queuedFrames: Int
    /// Topics with subscribers on this loop.
    var topics: Set<String>

    /// Add another loop's part.
    mutating func add(_ other: MetricsShare) {
        for (name, series) in other.counters {
            for (labels, value) in series { counters[name, default: [:]][labels, default: 0] += value }
        }
        httpLatency.add(other.httpLatency)
        deliveryLatency.add(other.deliveryLatency)
        framesOut += other.framesOut
        eventsOut += other.eventsOut
        queuedFrames += other.queuedFrames
        topics.formUnion(other.topics)
    }

    /// Prometheus text: the gauges given, then the counters and histograms.
    func render(gauges: [(String, String, Double)]) -> String {
        var out = ""
        for (name, help, value) in gauges {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
        }
        out += "# TYPE bedrock_ws_frames_out_total counter\nbedrock_ws_frames_out_total \(framesOut)\n"
        out += "# TYPE bedrock_ws_messages_out_total counter\nbedrock_ws_messages_out_total \(eventsOut)\n"
        for name in counters.keys.sorted() {
            out += "# TYPE \(name) counter\n"
            for (labels, value) in counters[name]!.sorted(by: { $0.key < $1.key }) {
                out += labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(labels)} \(value)\n"
            }
        }
        out += httpLatency.render(name: "bedrock_http_request_duration_seconds")
        out += deliveryLatency.render(name: "bedrock_event_delivery_latency_seconds")
        return out
    }
}

/// A fixed-bucket latency histogram.
struct Histogram: Sendable {
    let bounds: [Double]
    private var buckets: [Int]
    private var sum = 0.0
    private var total = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        buckets = Array(repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        for (i, bound) in bounds.enumerated() where value <= bound { buckets[i] += 1 }
        sum += value
        total += 1
    }

    /// Add the observations of a histogram with the same bounds.
    mutating func add(_ other: Histogram) {
        precondition(other.bounds == bounds, "histograms with different buckets")
        for i in buckets.indices { buckets[i] += other.buckets[i] }
        sum += other.sum
        total += other.total
    }

    func render(name: String) -> String {
        var out = "# TYPE \(name) histogram\n"
        for (i, bound) in bounds.enumerated() { out += "\(name)_bucket{le=\"\(bound)\"} \(buckets[i])\n" }
        out += "\(name)_bucket{le=\"+Inf\"} \(total)\n\(name)_sum \(sum)\n\(name)_count \(total)\n"
        return out
    }
}

extension Gateway {
    /// This loop's part of `/metrics` (service thread).
    func metricsShare() -> MetricsShare {
        metrics.share(queuedFrames: connections.values.reduce(0) { $0 + $1.outbound.count }, topics: Set(router.topicNames))
    }

    /// The `/metrics` page from the sum of every loop's part.
    func renderMetrics(_ total: MetricsShare) -> String {
        total.render(gauges: [
            ("bedrock_queued_frames", "frames waiting in send queues", Double(total.queuedFrames)),
            ("bedrock_connections", "open WebSocket connections", Double(census.totalOpen)),
            ("bedrock_authenticated_connections", "authenticated WebSocket connections", Double(census.totalAuthenticated)),
            ("bedrock_topics_active", "topics with subscribers on this gateway", Double(total.topics.count)),
            ("bedrock_service_loops", "event loops serving connections", Double(census.loops)),
            ("bedrock_redis_up", "1 when Redis answers", source.isUp ? 1 : 0),
        ]) + loopLines() + source.metricLines() + (slowMetrics?.text ?? "")
    }

    /// `bedrock_loop_connections{loop="i"}`: how the connections are spread over the loops.
    private func loopLines() -> String {
        var out = "# HELP bedrock_loop_connections open WebSocket connections per service loop\n# TYPE bedrock_loop_connections gauge\n"
        for (loop, open) in census.openPerLoop.enumerated() { out += "bedrock_loop_connections{loop=\"\(loop)\"} \(open)\n" }
        return out
    }
}

/// Collects the loops' parts of one `/metrics` request (any thread).
final class MetricsGather: @unchecked Sendable {
    // Sound: `total` and `missing` are only touched while holding `lock`.
    private let lock = NSLock()
    private var total: MetricsShare?
    private var missing: Int

    init(parts: Int) { missing = parts }

    /// Add one part; returns the sum when it was the last one.
    func add(_ part: MetricsShare) -> MetricsShare? {
        lock.lock(); defer { lock.unlock() }
        if total == nil { total = part } else { total!.add(part) }
        missing -= 1
        return missing == 0 ? total : nil
    }
}
