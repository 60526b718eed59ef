import Foundation

/// State shared between a `StreamBridge`'s callers, its reader thread and its waker thread.
///
/// Every field is guarded by `condition`; the reader waits on it when idle or backing off.
final class BridgeShared: @unchecked Sendable {
    // @unchecked Sendable: all mutable fields are read and written only while holding
    // `condition` (an NSCondition, i.e. a mutex plus condition variable).

    /// A queued topic change.
    enum Op {
        case activate(String, @Sendable (String) -> Void)
        case deactivate(String)
    }

    private let condition = NSCondition()
    private var ops: [Op] = []
    private var generation: UInt64 = 0
    private var consumed: UInt64 = 0
    private var stopping = false
    private var readerExited = false
    private var clientID: Int64?
    private var up = false
    private var ingested: [String: UInt64] = [:]
    private var malformed: UInt64 = 0
    private var gaps: UInt64 = 0
    private var reconnects: UInt64 = 0
    private var active = 0

    private func locked<R>(_ body: () -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    // MARK: callers

    func enqueue(_ op: Op) {
        locked {
            ops.append(op)
            generation &+= 1
            condition.broadcast()
        }
    }

    func requestStop() {
        locked {
            stopping = true
            generation &+= 1
            condition.broadcast()
        }
    }

    func snapshot(activeTopics: Int?) -> StreamBridge.Stats {
        locked {
            StreamBridge.Stats(
                eventsIngested: ingested, malformedEvents: malformed, gaps: gaps,
                reconnects: reconnects, redisUp: up, activeTopics: activeTopics ?? active)
        }
    }

    // MARK: reader

    var isStopping: Bool { locked { stopping } }

    /// The first queued operation, or nil when none is left; in that case every operation
    /// enqueued so far counts as seen by the reader.
    func peekOp() -> Op? {
        locked {
            if let op = ops.first { return op }
            consumed = generation
            return nil
        }
    }

    /// Removes the operation `peekOp` returned, once it has been applied.
    func popOp() { locked { if !ops.isEmpty { ops.removeFirst() } } }

    /// Waits until an operation is queued, stop is requested or `seconds` pass; true unless timed out.
    func waitForWork(seconds: Double) -> Bool {
        locked {
            let deadline = Date().addingTimeInterval(seconds)
            while ops.isEmpty && !stopping {
                if !condition.wait(until: deadline) { return !ops.isEmpty || stopping }
            }
            return true
        }
    }

    /// Sleeps `seconds` unless stop is requested first.
    func sleep(seconds: Double) {
        locked {
            let deadline = Date().addingTimeInterval(seconds)
            while !stopping && condition.wait(until: deadline) {}
        }
    }

    func setReader(clientID: Int64?) { locked { self.clientID = clientID } }

    func setUp(_ value: Bool, countReconnect: Bool) {
        locked {
            up = value
            if countReconnect { reconnects += 1 }
        }
    }

    func record(ingested perTopic: [String: UInt64], malformed bad: UInt64, activeTopics: Int, gaps holes: UInt64) {
        locked {
            for (topic, n) in perTopic { ingested[topic, default: 0] += n }
            malformed += bad
            gaps += holes
            active = activeTopics
        }
    }

    func markReaderExited() {
        locked {
            readerExited = true
            consumed = .max
            clientID = nil
            up = false
            condition.broadcast()
        }
    }

    // MARK: waker

    var readerClientID: Int64? { locked { clientID } }

    /// Blocks until the generation moves past `seen` (or stop is requested).
    func waitForGeneration(after seen: UInt64) -> (UInt64, Bool) {
        locked {
            while generation == seen && !stopping { condition.wait() }
            return (generation, stopping)
        }
    }

    /// True while the reader has not yet looked at the operations of `generation`.
    func readerNeedsWake(_ generation: UInt64) -> Bool {
        locked { !readerExited && consumed < generation }
    }
}
