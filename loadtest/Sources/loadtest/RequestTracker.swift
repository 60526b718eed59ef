/// The requests in flight on every requesting connection, and what came back. Each connection has
/// `depth` slots; a request's id encodes its slot (`id = serial × depth + slot`, serial from 1), so
/// a response finds its request in O(1) and a response whose id is not in flight (late, duplicated
/// or invented) is caught. Loop thread only.
final class RequestTracker {
    /// Requests in flight per connection (`--inflight`).
    let depth: Int
    /// Connections 0..<connections send requests; others are never asked.
    let connections: Int
    /// Slot table, `connection × depth + slot`: the id in flight there (0 = free) and when it left.
    private var ids: [Int64]
    private var sentNs: [UInt64]
    /// Per connection: requests in flight, requests granted by the pacer but not yet written,
    /// and the serial of the next request.
    private var inflight: [Int32]
    private var owed: [Int32]
    private var serial: [Int64]
    /// Issue only when granted (`grant`), instead of whenever a slot is free.
    let paced: Bool
    /// No new request leaves once this is false (end of the measured window).
    var issuing = false

    private(set) var sent = 0
    /// Answers: `response` frames and `error` frames carrying a request id.
    private(set) var answered = 0
    private(set) var succeeded = 0
    /// Error frames by `error_code`, with or without a request id (RATE_LIMITED has none).
    private(set) var errors: [String: Int] = [:]
    /// Requests given up after the timeout (no answer), and answers matching no request in flight.
    private(set) var missing = 0
    private(set) var unmatched = 0
    private(set) var latency = Histogram()

    /// Slots for `connections` connections, `depth` each.
    init(connections: Int, depth: Int, paced: Bool) {
        self.depth = depth
        self.connections = connections
        self.paced = paced
        ids = [Int64](repeating: 0, count: connections * depth)
        sentNs = [UInt64](repeating: 0, count: connections * depth)
        inflight = [Int32](repeating: 0, count: connections)
        owed = [Int32](repeating: 0, count: connections)
        serial = [Int64](repeating: 1, count: connections)
    }

    /// Requests in flight over all connections.
    var outstanding: Int { sent - answered - missing }

    /// Whether connection `c` may write a request now.
    func canIssue(_ c: Int) -> Bool {
        guard issuing, c < connections, inflight[c] < depth else { return false }
        return !paced || owed[c] > 0
    }

    /// Pacer: let connection `c` send one more request; false when its slots are all taken.
    func grant(_ c: Int) -> Bool {
        guard c < connections, Int(inflight[c] + owed[c]) < depth else { return false }
        owed[c] += 1
        return true
    }

    /// Take a free slot of connection `c` for a request leaving at `now`; returns its id.
    func issue(_ c: Int, now: UInt64) -> Int64 {
        let base = c * depth
        var slot = 0
        while ids[base + slot] != 0 { slot += 1 }  // canIssue guarantees a free one
        let id = serial[c] * Int64(depth) + Int64(slot)
        serial[c] += 1
        ids[base + slot] = id
        sentNs[base + slot] = now
        inflight[c] += 1
        if paced { owed[c] -= 1 }
        sent += 1
        return id
    }

    /// An answer to `id` on connection `c` (`errorCode` nil for a `response`); false when no such
    /// request was in flight.
    @discardableResult
    func answer(_ c: Int, id: Int64, errorCode: String?, now: UInt64) -> Bool {
        if let errorCode { errors[errorCode, default: 0] += 1 }
        guard c < connections, id >= Int64(depth), ids[c * depth + Int(id % Int64(depth))] == id else {
            unmatched += 1
            return false
        }
        let at = c * depth + Int(id % Int64(depth))
        ids[at] = 0
        inflight[c] -= 1
        answered += 1
        if errorCode == nil { succeeded += 1 }
        latency.record(now > sentNs[at] ? now - sentNs[at] : 0)
        return true
    }

    /// An error frame without a request id (e.g. RATE_LIMITED: the request was dropped).
    func unattributedError(_ code: String) { errors[code, default: 0] += 1 }

    /// Give up on requests older than `timeoutNs`: each counts as missing and frees its slot.
    /// Calls `freed(c)` for every connection that got a slot back.
    func expire(now: UInt64, timeoutNs: UInt64, freed: (Int) -> Void) {
        for at in 0..<ids.count where ids[at] != 0 && now > sentNs[at] && now - sentNs[at] > timeoutNs {
            ids[at] = 0
            inflight[at / depth] -= 1
            missing += 1
            freed(at / depth)
        }
    }
}
