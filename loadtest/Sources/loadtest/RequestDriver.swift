import Foundation

/// The request side of `request`, `mixed` and `soak`: starts the requesters, paces them when
/// `--request-rate` is set (otherwise each keeps `--inflight` requests in flight), gives up on
/// unanswered requests after `--request-timeout`, and reports. Loop thread only.
final class RequestDriver {
    let tracker: RequestTracker
    /// Connections 0..<requesters send requests.
    let requesters: Int
    private let rate: Double
    private let timeoutNs: UInt64
    private var startNs: UInt64 = 0
    private var stopNs: UInt64 = 0
    private var answeredAtStop = 0
    private var granted = 0
    private var skipped = 0
    private var cursor = 0
    private var expireAt: UInt64 = 0

    /// A driver for `options`; registers its tracker with `pool`.
    init(options: Options, pool: any ClientConnections) {
        let defaultRequesters = options.scenario == "request" ? options.connections : max(1, options.connections / 10)
        requesters = min(options.connections, options.requesters ?? defaultRequesters)
        rate = options.requestRate
        timeoutNs = UInt64(options.requestTimeout * 1e9)
        tracker = RequestTracker(connections: requesters, depth: options.inflight, paced: options.requestRate > 0)
        pool.requests = tracker
    }

    /// Begin the measured window: every requester starts (closed loop) or the pacer does.
    func start(_ pool: any ClientConnections) {
        startNs = ClockNs.monotonic()
        expireAt = startNs
        tracker.issuing = true
        if !tracker.paced { for c in 0..<requesters { pool.requestMore(c) } }
    }

    /// Pace and expire; call every tick while requests run or drain.
    func tick(_ pool: any ClientConnections) {
        let now = ClockNs.monotonic()
        if tracker.issuing && tracker.paced && requesters > 0 {
            let due = Int(Double(now - startNs) / 1e9 * rate) - granted
            for _ in 0..<max(0, due) {
                granted += 1
                if let c = nextRequesterWithRoom() { pool.requestMore(c) } else { skipped += 1 }
            }
        }
        if now >= expireAt {
            expireAt = now + 100_000_000
            tracker.expire(now: ClockNs.realtime(), timeoutNs: timeoutNs) { c in
                if !self.tracker.paced { pool.requestMore(c) }
            }
        }
    }

    /// Round-robin: the next requester that can take one more request (granting it), if any.
    private func nextRequesterWithRoom() -> Int? {
        for _ in 0..<requesters {
            let c = cursor
            cursor = (cursor + 1) % requesters
            if tracker.grant(c) { return c }
        }
        return nil
    }

    /// End the measured window: no new request leaves; answers still count while draining.
    func stop() {
        guard tracker.issuing else { return }
        tracker.issuing = false
        stopNs = ClockNs.monotonic()
        answeredAtStop = tracker.answered
    }

    /// Nothing left in flight.
    var drained: Bool { tracker.outstanding <= 0 }

    /// Add the request rows to `report` (what is still in flight counts as missing) and fail it on
    /// a missing or unmatched answer or any error frame.
    func finish(into report: inout Report) {
        stop()
        tracker.expire(now: .max, timeoutNs: 0) { _ in }
        let t = tracker
        let window = Double(stopNs - startNs) / 1e9
        report.section("requests")
        report.add("requesters", .int(requesters))
        report.add("requests sent", .int(t.sent))
        report.add("responses (ok)", .int(t.succeeded))
        report.add("error responses", .int(t.answered - t.succeeded))
        report.add("request window", window, digits: 2, "s")
        if window > 0 { report.add("requests/s", Double(answeredAtStop) / window, digits: 0, "req/s") }
        if tracker.paced { report.add("requests skipped (no free slot)", .int(skipped)) }
        for (name, p) in [
            ("request latency p50", 50.0), ("request latency p90", 90.0), ("request latency p99", 99.0),
            ("request latency p99.9", 99.9),
        ] {
            report.add(name, Double(t.latency.percentile(p)) / 1e6, digits: 3, "ms")
        }
        report.add("request latency max", Double(t.latency.max) / 1e6, digits: 3, "ms")
        report.add("missing responses", .int(t.missing))
        report.add("unmatched responses", .int(t.unmatched))
        for (code, n) in t.errors.sorted(by: { $0.key < $1.key }) { report.add("errors \(code)", .int(n)) }
        if t.missing > 0 { report.fail("\(t.missing) of \(t.sent) requests got no response within the timeout") }
        if t.unmatched > 0 { report.fail("\(t.unmatched) responses matched no request in flight") }
        if !t.errors.isEmpty {
            report.fail(
                "error frames: "
                    + t.errors.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if t.sent == 0 { report.fail("no request was sent") }
    }
}
