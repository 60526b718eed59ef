import Dispatch
import GatewayCore
import LLMCore
import Synchronization
import XCTest

@testable import Bedrock

/// The LLM layer's scheduler state: at most `slots` calls at once over all tasks, sentiment asks
/// before explanations, an interactive caller served before background work, nothing started
/// while a `Retry-After` runs, a bounded explanation queue.
final class LLMWorkTests: XCTestCase {
    let clock = ManualClock(monotonic: 100, wall: 1_800_000_000)

    func work(slots: Int, queueMax: Int = 256) -> LLMWork {
        LLMWork(
            book: SentimentBook(config: SentimentBookConfig(batchWindow: 1, maxConcurrency: slots)), slots: slots,
            explanationQueueMax: queueMax, clock: clock)
    }

    func explanation(_ id: Int64) -> ExplanationJob {
        ExplanationJob(
            signalID: id,
            signal: SignalInput(
                strategy: "s", market: "BTCUSDT", interval: "1h", barTime: "t", signalType: "PULLBACK_BUY", side: "BUY",
                entryPrice: 1, ruleEngineScore: 50, finalDecision: "APPROVED", explanation: "template"))
    }

    func news(_ w: LLMWork, _ market: String) {
        w.locked { s, now in _ = s.book.newsArrived(market, NewsHeadline(title: "h", source: "x"), at: now) }
    }

    /// `take` on another thread; the job it got (nil: stopped) is delivered to `got`.
    func takeInBackground(_ w: LLMWork, _ got: @escaping @Sendable (LLMJob?) -> Void) {
        Thread { got(w.take(tick: 0.01)) }.start()
    }

    func testSentimentBeforeExplanationsAndNoMoreThanTheSlots() {
        let w = work(slots: 1)
        _ = w.queue(explanation(7))
        news(w, "BTCUSDT")
        clock.advance(1)
        guard case .sentiment(let ask)? = w.take(tick: 0.01) else { return XCTFail("a sentiment ask first") }
        XCTAssertEqual(ask.market, "BTCUSDT")
        // The only slot is taken: a second taker waits until it is given back.
        let second = DispatchSemaphore(value: 0)
        let taken = Mutex<LLMJob?>(nil)
        takeInBackground(w) { job in
            taken.withLock { $0 = job }
            second.signal()
        }
        XCTAssertEqual(second.wait(timeout: .now() + 0.3), .timedOut, "no second call while the slot is held")
        w.release()
        XCTAssertEqual(second.wait(timeout: .now() + 5), .success)
        guard case .explanation(let job)? = taken.withLock({ $0 }) else { return XCTFail("then the explanation") }
        XCTAssertEqual(job.signalID, 7)
        w.stop()
    }

    func testAnInteractiveCallerGetsTheNextFreeSlotBeforeBackgroundWork() {
        let w = work(slots: 1)
        XCTAssertTrue(w.acquire(wait: 1))
        _ = w.queue(explanation(1))
        let background = DispatchSemaphore(value: 0)
        takeInBackground(w) { _ in background.signal() }
        let interactive = DispatchSemaphore(value: 0)
        Thread {
            if w.acquire(wait: 5) { interactive.signal() }
        }.start()
        // Both wait (the interactive caller is counted), then the slot frees: the interactive caller wins it.
        let deadline = Date().addingTimeInterval(5)
        while w.locked({ s, _ in s.interactiveWaiting }) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        w.release()
        XCTAssertEqual(interactive.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(background.wait(timeout: .now() + 0.2), .timedOut, "background waits for the slot")
        w.release()
        XCTAssertEqual(background.wait(timeout: .now() + 5), .success)
        w.stop()
    }

    func testAnInteractiveCallerGivesUpWhenNoSlotFrees() {
        let w = work(slots: 1)
        XCTAssertTrue(w.acquire(wait: 1))
        XCTAssertFalse(w.acquire(wait: 0.05))
    }

    func testNothingStartsWhileRetryAfterRuns() {
        let w = work(slots: 2)
        _ = w.queue(explanation(1))
        w.locked { s, now in _ = s.outage.failed(.sentiment, .rateLimited, retryAfter: 30, at: now) }
        let started = DispatchSemaphore(value: 0)
        takeInBackground(w) { job in if job != nil { started.signal() } }
        XCTAssertEqual(started.wait(timeout: .now() + 0.3), .timedOut)
        clock.advance(30)
        XCTAssertEqual(started.wait(timeout: .now() + 5), .success)
        w.stop()
    }

    func testTheExplanationQueueIsBoundedDroppingTheOldest() {
        let w = work(slots: 1, queueMax: 2)
        XCTAssertFalse(w.queue(explanation(1)))
        XCTAssertFalse(w.queue(explanation(2)))
        XCTAssertTrue(w.queue(explanation(3)))
        XCTAssertEqual(w.locked { s, _ in s.explanations.map(\.signalID) }, [2, 3])
    }

    func testStopWakesTakers() {
        let w = work(slots: 1)
        let ended = expectation(description: "take returns nil")
        takeInBackground(w) { job in if job == nil { ended.fulfill() } }
        w.stop()
        wait(for: [ended], timeout: 5)
    }
}
