import DequeModule

/// Calls waiting for an answer from another thread, each with a deadline: the service loop's
/// watchdog. Whichever comes first wins — the answer (`answer(_:)` hands back the call's value,
/// and the answer goes out) or the deadline (`expire(now:)` hands it back, the loop answers
/// UNAVAILABLE, and the late answer finds nothing: `answer(_:)` returns nil and it is dropped).
/// So every call gets exactly one answer, by its deadline at the latest.
///
/// Calls are keyed by a serial number unique on the loop. Deadlines are kept in order in a
/// deque; with one timeout for every call they arrive in order, so adding is O(1) (a call with a
/// longer allowance is passed over by the shorter ones added after it: a few steps), and answered
/// calls are dropped from the front as soon as everything before them is gone. Memory is bounded
/// by the calls started within one timeout. Pure value type: no clock, no threads; the loop owns
/// it and passes the time in.
public struct AnswerDeadlines<Value> {
    private var waiting: [UInt64: Value] = [:]
    private var order = Deque<(deadline: Double, serial: UInt64)>()

    /// No call waiting.
    public init() {}

    /// Calls still waiting for an answer.
    public var count: Int { waiting.count }

    /// The earliest deadline of a call still waiting (when the watchdog must look next).
    public var nextDeadline: Double? { order.first?.deadline }

    /// Start waiting for call `serial`, answered by `deadline` at the latest (monotonic seconds).
    public mutating func add(_ serial: UInt64, _ value: Value, deadline: Double) {
        waiting[serial] = value
        var index = order.endIndex
        while index > order.startIndex, order[index - 1].deadline > deadline { index -= 1 }
        order.insert((deadline, serial), at: index)
    }

    /// The answer of call `serial` arrived: its value when it was still waiting (send the
    /// answer), nil when its deadline already answered it or it was never added (drop it).
    public mutating func answer(_ serial: UInt64) -> Value? {
        guard let value = waiting.removeValue(forKey: serial) else { return nil }
        dropAnsweredFront()
        return value
    }

    /// The calls whose deadline is at or before `now`, oldest first; they wait no longer.
    public mutating func expire(now: Double) -> [(serial: UInt64, value: Value)] {
        var overdue: [(serial: UInt64, value: Value)] = []
        while let first = order.first, first.deadline <= now {
            order.removeFirst()
            if let value = waiting.removeValue(forKey: first.serial) { overdue.append((first.serial, value)) }
        }
        dropAnsweredFront()
        return overdue
    }

    private mutating func dropAnsweredFront() {
        while let first = order.first, waiting[first.serial] == nil { order.removeFirst() }
    }
}
