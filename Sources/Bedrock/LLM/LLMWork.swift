import DequeModule
import Foundation
import GatewayCore
import LLMCore

/// A signal waiting for its written explanation.
struct ExplanationJob: Sendable {
    /// The stored signal.
    let signalID: Int64
    /// The signal as recorded (its facts fill the prompt).
    let signal: SignalInput
}

/// One model call a scheduler thread takes.
enum LLMJob: Sendable {
    /// A market's sentiment from its recent headlines.
    case sentiment(SentimentAsk)
    /// A signal's explanation.
    case explanation(ExplanationJob)
}

/// The LLM layer's shared state: the sentiment book, the outage policy, the queued
/// explanations, and the call slots (`llm.max_concurrency`). One lock guards it all; the
/// scheduler threads and interactive callers wait on its condition for a free slot or work.
///
/// Slots: every model call holds one for its whole length, so at most `slots` calls are ever in
/// flight over all tasks. An interactive caller (journal, review) waiting for a slot has it
/// before any background job starts.
final class LLMWork: @unchecked Sendable {
    struct State {
        var book: SentimentBook
        var outage = OutagePolicy()
        var explanations = Deque<ExplanationJob>()
        var ready = Deque<SentimentAsk>()
        var inFlight = 0
        var interactiveWaiting = 0
        var running = true
    }

    // Sound: `state` is only touched with `condition` locked (`locked`, `take`, `acquire`).
    private var state: State
    private let condition = NSCondition()
    /// Calls in flight at once, at most.
    let slots: Int
    /// Explanations queued at most; a further one drops the oldest.
    let explanationQueueMax: Int
    private let clock: any GatewayClock

    init(book: SentimentBook, slots: Int, explanationQueueMax: Int = 256, clock: any GatewayClock) {
        state = State(book: book)
        self.slots = slots
        self.explanationQueueMax = explanationQueueMax
        self.clock = clock
    }

    /// Runs `body` on the state under the lock (short: no I/O), then wakes the waiting threads.
    func locked<T>(_ body: (inout State, ClockReading) -> T) -> T {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return body(&state, clock.read())
    }

    /// The next background job, with its slot taken; waits for one (polling the book's windows at
    /// least every `tick` seconds). Nil once stopped.
    func take(tick: Double = 0.1) -> LLMJob? {
        condition.lock()
        defer { condition.unlock() }
        while state.running {
            let now = clock.read()
            if state.inFlight < slots, state.interactiveWaiting == 0, let job = nextJob(now) {
                state.inFlight += 1
                return job
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: tick))
        }
        return nil
    }

    /// Sentiment asks first (they are the arbiter's input), then explanations; nothing while a
    /// `Retry-After` runs.
    private func nextJob(_ now: ClockReading) -> LLMJob? {
        guard state.outage.mayCall(at: now) else { return nil }
        if state.ready.isEmpty {
            state.ready.append(contentsOf: state.book.due(at: now, outage: state.outage))
        }
        if let ask = state.ready.popFirst() { return .sentiment(ask) }
        if let job = state.explanations.popFirst() { return .explanation(job) }
        return nil
    }

    /// Queues an explanation; true when the queue was full and its oldest job was dropped (that
    /// signal keeps its template).
    func queue(_ job: ExplanationJob) -> Bool {
        locked { s, _ in
            s.explanations.append(job)
            guard s.explanations.count > explanationQueueMax else { return false }
            s.explanations.removeFirst()
            return true
        }
    }

    /// A slot for an interactive call, waiting at most `wait` seconds; false when none freed.
    func acquire(wait: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: wait)
        state.interactiveWaiting += 1
        while state.running, state.inFlight >= slots, condition.wait(until: deadline) {}
        state.interactiveWaiting -= 1
        guard state.running, state.inFlight < slots else {
            condition.broadcast()
            return false
        }
        state.inFlight += 1
        return true
    }

    /// Gives a slot back.
    func release() {
        locked { s, _ in s.inFlight -= 1 }
    }

    /// Stops: `take` answers nil, waiting callers give up.
    func stop() {
        locked { s, _ in s.running = false }
    }
}
