/// Counters and histograms for `/metrics`, kept on the service thread (no locks needed there).
/// Rendered in the Prometheus text format.
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

    /// Prometheus text for everything recorded plus the gauges given.
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
struct Histogram {
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

    func render(name: String) -> String {
        var out = "# TYPE \(name) histogram\n"
        for (i, bound) in bounds.enumerated() { out += "\(name)_bucket{le=\"\(bound)\"} \(buckets[i])\n" }
        out += "\(name)_bucket{le=\"+Inf\"} \(total)\n\(name)_sum \(sum)\n\(name)_count \(total)\n"
        return out
    }
}

extension Gateway {
    func renderMetrics() -> String {
        metrics.render(gauges: [
            ("bedrock_queued_frames", "frames waiting in send queues", Double(connections.values.reduce(0) { $0 + $1.queue.count })),
            ("bedrock_connections", "open WebSocket connections", Double(connections.count)),
            ("bedrock_authenticated_connections", "authenticated WebSocket connections", Double(activeConnections)),
            ("bedrock_topics_active", "topics with subscribers on this gateway", Double(topics.count)),
            ("bedrock_redis_up", "1 when Redis answers", source.isUp ? 1 : 0),
        ]) + source.metricLines() + (slowMetrics?.text ?? "")
    }
}
