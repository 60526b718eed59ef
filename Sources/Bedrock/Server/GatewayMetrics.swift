import Foundation
import GatewayCore
import Prometheus
import Synchronization

/// One service loop's counters for `/metrics`. The loop counts in plain integers on its own
/// thread (no locks or shared atomics on the hot path); each counter is bound to its labels at
/// first use (per topic, route and status, method, close code) and cached by the label values.
/// A scrape has every loop `publish` what it counted into the group's `MetricsRegistry`, whose
/// series then hold the sum of all loops. The latency histograms are recorded into the registry
/// directly (once per request or bridged event, not per frame).
final class GatewayMetrics {
    let registry: MetricsRegistry
    /// WebSocket frames written (a batch counts once).
    var framesOut = 0
    /// Events/frames delivered inside those frames.
    var eventsOut = 0
    let connectionsOpened: LoopCounter
    let connectionsRefused: LoopCounter
    let messagesIn: LoopCounter
    let slowConsumerDisconnects: LoopCounter
    let replayedEvents: LoopCounter
    private var framesOutTotal: CounterMirror
    private var eventsOutTotal: CounterMirror
    private var requests: [Method: LoopCounter] = [:]
    private var closes: [CloseCode: LoopCounter] = [:]
    private var httpRequests: [HTTPSeries: LoopCounter] = [:]
    private var topics: [String: TopicCounters] = [:]
    /// Every counter bound so far, for `publish`.
    private var bound: [LoopCounter] = []
    private let httpLatency: ValueHistogram
    private let deliveryLatency: ValueHistogram

    init(registry: MetricsRegistry) {
        self.registry = registry
        framesOutTotal = CounterMirror(
            registry.counter("bedrock_ws_frames_out_total", help: "WebSocket frames written (a batch counts once)."))
        eventsOutTotal = CounterMirror(
            registry.counter("bedrock_ws_messages_out_total", help: "Events and answers delivered inside those frames."))
        httpLatency = registry.histogram(
            "bedrock_http_request_duration_seconds", help: "HTTP request duration.",
            buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1])
        deliveryLatency = registry.histogram(
            "bedrock_event_delivery_latency_seconds", help: "Time from the stream append to fan-out on the loop.",
            buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5])
        var bound: [LoopCounter] = []
        func plain(_ name: String, _ help: String) -> LoopCounter {
            let counter = LoopCounter(registry.counter(name, help: help))
            bound.append(counter)
            return counter
        }
        connectionsOpened = plain("bedrock_ws_connections_opened_total", "WebSocket connections opened.")
        connectionsRefused = plain("bedrock_connections_refused_total", "WebSocket upgrades refused at the connection limit.")
        messagesIn = plain("bedrock_ws_messages_in_total", "WebSocket messages received.")
        slowConsumerDisconnects = plain(
            "bedrock_slow_consumer_disconnects_total", "Connections cut off for not reading fast enough.")
        replayedEvents = plain("bedrock_replayed_events_total", "Events sent from stream replays.")
        self.bound = bound
    }

    /// Counts one socket request for `method`.
    func request(_ method: Method) {
        if let counter = requests[method] { return counter.add() }
        requests[method] = bind(
            "bedrock_ws_requests_total", "WebSocket requests by method.", [("method", method.rawValue)], then: 1)
    }

    /// Counts one close the gateway started with `code`.
    func close(_ code: CloseCode) {
        if let counter = closes[code] { return counter.add() }
        closes[code] = bind(
            "bedrock_ws_closes_total", "WebSocket closes by close code.", [("code", String(code.rawValue))], then: 1)
    }

    func observeHTTP(route: String, status: Int, seconds: Double) {
        let series = HTTPSeries(route: route, status: status)
        if let counter = httpRequests[series] {
            counter.add()
        } else {
            httpRequests[series] = bind(
                "bedrock_http_requests_total", "HTTP requests by route and status.",
                [("route", route), ("status", String(status))], then: 1)
        }
        httpLatency.record(seconds)
    }

    /// Time from the stream append (the entry id's milliseconds) to fan-out on the loop.
    func observeDelivery(_ seconds: Double) { deliveryLatency.record(max(0, seconds)) }

    /// The counters of the metrics topic `topic` (bound at its first event on this loop).
    func topic(_ topic: String) -> TopicCounters {
        if let counters = topics[topic] { return counters }
        let labels = [("topic", topic)]
        let counters = TopicCounters(
            ingested: bind(
                "bedrock_events_ingested_total", "Events bridged from Redis, counted once per gateway.", labels, then: 0),
            deliveries: bind("bedrock_ws_event_deliveries_total", "Events queued to subscribers.", labels, then: 0))
        topics[topic] = counters
        return counters
    }

    /// Add what this loop counted since the last scrape to the registry (service thread).
    func publish() {
        framesOutTotal.publish(framesOut)
        eventsOutTotal.publish(eventsOut)
        for counter in bound { counter.publish() }
    }

    private func bind(_ name: String, _ help: String, _ labels: [(String, String)], then first: Int) -> LoopCounter {
        let counter = LoopCounter(registry.counter(name, help: help, labels: labels))
        counter.add(first)
        bound.append(counter)
        return counter
    }
}

/// The per-topic counters of one loop.
struct TopicCounters {
    /// `bedrock_events_ingested_total{topic}` (counted by loop 0 only: once per gateway).
    let ingested: LoopCounter
    /// `bedrock_ws_event_deliveries_total{topic}`.
    let deliveries: LoopCounter
}

/// The labels of one `bedrock_http_requests_total` series.
private struct HTTPSeries: Hashable {
    let route: String
    let status: Int
}

/// The gauges of `/metrics` that are computed at scrape time from the loops' state.
struct GatewayGauges {
    let queuedFrames: Gauge
    let connections: Gauge
    let authenticated: Gauge
    let topicsActive: Gauge
    let serviceLoops: Gauge
    let redisUp: Gauge
    /// `bedrock_presence_users`: distinct users connected to this gateway.
    let presenceUsers: Gauge
    /// `bedrock_loop_connections{loop}`, by loop index.
    let loopConnections: [Gauge]

    init(registry: MetricsRegistry, loops: Int) {
        queuedFrames = registry.gauge("bedrock_queued_frames", help: "frames waiting in send queues")
        connections = registry.gauge("bedrock_connections", help: "open WebSocket connections")
        authenticated = registry.gauge("bedrock_authenticated_connections", help: "authenticated WebSocket connections")
        topicsActive = registry.gauge("bedrock_topics_active", help: "topics with subscribers on this gateway")
        serviceLoops = registry.gauge("bedrock_service_loops", help: "event loops serving connections")
        redisUp = registry.gauge("bedrock_redis_up", help: "1 when Redis answers")
        presenceUsers = registry.gauge("bedrock_presence_users", help: "distinct users connected to this gateway")
        loopConnections = (0..<loops).map {
            registry.gauge(
                "bedrock_loop_connections", help: "open WebSocket connections per service loop", labels: [("loop", String($0))])
        }
    }
}

/// One loop's part of the scrape-time gauges.
struct LoopSample: Sendable {
    /// Frames waiting in this loop's send queues.
    var queuedFrames: Int
    /// Topics with subscribers on this loop.
    var topics: Set<String>
}

extension ServiceLoop {
    /// Publish this loop's counters and sample its gauges for `/metrics` (service thread).
    func metricsSample() -> LoopSample {
        metrics.publish()
        return LoopSample(queuedFrames: connections.values.reduce(0) { $0 + $1.outbound.count }, topics: Set(router.topicNames))
    }

    /// The `/metrics` page once every loop published its part (`total`).
    func renderMetrics(_ total: LoopSample) -> String {
        gauges.queuedFrames.set(to: Double(total.queuedFrames))
        gauges.connections.set(to: Double(census.totalOpen))
        gauges.authenticated.set(to: Double(census.totalAuthenticated))
        gauges.topicsActive.set(to: Double(total.topics.count))
        gauges.serviceLoops.set(to: Double(census.loops))
        gauges.redisUp.set(to: source.isUp ? 1 : 0)
        for (loop, open) in census.openPerLoop.enumerated() where loop < gauges.loopConnections.count {
            gauges.loopConnections[loop].set(to: Double(open))
        }
        publishPresence()
        return metrics.registry.render()
    }
}

extension ServiceLoop {
    /// `bedrock_presence_connections{topic}` (this gateway's connections subscribed to each
    /// topic, `klines:*` collapsed; 0 for a topic no connection holds any more) and
    /// `bedrock_presence_users` (its distinct users).
    fileprivate func publishPresence() {
        let sample = presence.metricsSample()
        for (topic, count) in sample.topics {
            metrics.registry.gauge(
                "bedrock_presence_connections", help: "connections of this gateway subscribed to each topic",
                labels: [("topic", topic)]
            ).set(to: Double(count))
        }
        gauges.presenceUsers.set(to: Double(sample.users))
    }
}

/// Collects the loops' samples of one `/metrics` request (any thread).
final class MetricsGather: Sendable {
    private let state: Mutex<(total: LoopSample, missing: Int)>

    init(parts: Int) { state = Mutex((LoopSample(queuedFrames: 0, topics: []), parts)) }

    /// Add one loop's sample; returns the sum when it was the last one.
    func add(_ part: LoopSample) -> LoopSample? {
        state.withLock {
            $0.total.queuedFrames += part.queuedFrames
            $0.total.topics.formUnion(part.topics)
            $0.missing -= 1
            return $0.missing == 0 ? $0.total : nil
        }
    }
}
