import Foundation
import GatewayCore
import JSONCodec
import RedisClient
import Synchronization
import XCTest

@testable import Bedrock

/// The method table's deadline policy, on a `ManualClock`: a call is answered within
/// `callTimeout` of being handed over, never queued behind others past it, and refused at once
/// while Redis is known not to answer.
final class CallDeadlineTests: XCTestCase {
    private let clock = ManualClock(monotonic: 100)

    /// A table with one worker, whose first call (`.riskGet`) holds it until `release` is signalled.
    private func tableWithBusyWorker(release: DispatchSemaphore) -> MethodTable {
        let table = MethodTable(workers: WorkerPool(threads: 1, name: "test-deadline"), callTimeout: 2, clock: clock)
        let started = expectation(description: "the first call holds the worker")
        table.register(
            MethodHandler(.riskGet) { _ in
                started.fulfill()
                release.wait()
                return .success(.null)
            })
        table.dispatch(.riskGet, MethodCall(subject: "u", role: .viewer, params: [:])) { _ in }
        wait(for: [started], timeout: 5)
        return table
    }

    private func answer(
        _ table: MethodTable, _ method: Method, after release: DispatchSemaphore, advancing seconds: Double
    ) -> Result<JSONValue, APIError> {
        let done = expectation(description: "answer")
        nonisolated(unsafe) var result: Result<JSONValue, APIError>?
        table.dispatch(method, MethodCall(subject: "u", role: .viewer, params: [:])) {
            result = $0
            done.fulfill()
        }
        clock.advance(seconds)
        release.signal()
        wait(for: [done], timeout: 5)
        return result!
    }

    func testACallStillQueuedAtItsDeadlineIsAnsweredUnavailableWithoutRunning() {
        let release = DispatchSemaphore(value: 0)
        let table = tableWithBusyWorker(release: release)
        let ran = expectation(description: "the handler ran")
        ran.isInverted = true
        table.register(
            MethodHandler(.accountGet) { _ in
                ran.fulfill()
                return .success(.null)
            })
        let result = answer(table, .accountGet, after: release, advancing: 2.001)
        guard case .failure(let error) = result else { return XCTFail("answered \(result) past its deadline") }
        XCTAssertEqual(error.code, .unavailable)
        XCTAssertTrue(error.message.contains("2000 ms"), error.message)
        wait(for: [ran], timeout: 0.2)
    }

    func testARunningCallsRedisCommandsGetOnlyTheTimeLeft() {
        let release = DispatchSemaphore(value: 0)
        let table = tableWithBusyWorker(release: release)
        nonisolated(unsafe) var left: Double?
        table.register(
            MethodHandler(.accountGet) { _ in
                left = RedisDeadline.current.map { RedisDeadline.secondsLeft(until: $0) }
                return .success(.null)
            })
        guard case .success = answer(table, .accountGet, after: release, advancing: 1.5) else {
            return XCTFail("a call with time left runs")
        }
        let seconds = try? XCTUnwrap(left, "pooled Redis commands of the call are bounded")
        XCTAssertLessThanOrEqual(seconds ?? 9, 0.5, "1.5 of its 2 s were spent waiting for a worker")
        XCTAssertGreaterThan(seconds ?? 0, 0.3)
    }

    func testWhileRedisIsNotAnsweringCallsThatNeedItAreRefusedAtOnceAndInlineOnesAnswered() {
        let table = MethodTable(workers: WorkerPool(threads: 1, name: "test-breaker"), callTimeout: 2, clock: clock)
        let runs = Mutex(0)
        table.register(
            MethodHandler(.accountGet) { _ in
                runs.withLock { $0 += 1 }
                return .success(.null)
            })
        table.register(inline: InlineHandler(.strategiesList) { _ in .success("catalog") })
        let health = RedisHealth(address: RedisAddress(host: "127.0.0.1", port: 1), timeout: 0.2)  // never started
        table.redisHealth = health
        let call = MethodCall(subject: "u", role: .viewer, params: [:])
        let ran = expectation(description: "answered by the worker")
        XCTAssertNil(table.invoke(.accountGet, call) { _ in ran.fulfill() }, "Redis answering: the call goes to a worker")
        wait(for: [ran], timeout: 5)

        health.suspect()
        XCTAssertFalse(table.redisAnswering)
        let refused = table.invoke(.accountGet, call) { _ in XCTFail("a refused call must not reach a worker") }
        guard case .failure(let error)? = refused else { return XCTFail("answered \(String(describing: refused))") }
        XCTAssertEqual(error.code, .unavailable)
        XCTAssertEqual(runs.withLock { $0 }, 1)
        guard case .success(let value)? = table.invoke(.strategiesList, call, later: { _ in }) else {
            return XCTFail("an inline method needs no Redis")
        }
        XCTAssertEqual(value, "catalog")
    }

    func testAMethodWithAnAllowanceMayAnswerLaterThanCallTimeoutAndOthersMayNot() {
        let table = MethodTable(workers: WorkerPool(threads: 1, name: "test-allowance"), callTimeout: 2, clock: clock)
        table.allowLonger(.journalGenerate, by: 30)
        XCTAssertEqual(table.answerTime(for: .journalGenerate), 32)
        XCTAssertEqual(table.answerTime(for: .accountGet), 2)
        XCTAssertEqual(table.answerTime(for: nil), 2, "downloads keep callTimeout")
        XCTAssertTrue(table.timedOut(.journalGenerate).message.contains("32000 ms"))
        XCTAssertTrue(table.timedOut(.accountGet).message.contains("2000 ms (Redis did not answer in time)"))

        // The service loop's watchdog: a long call handed over first does not hold back the
        // deadline of a normal one handed over after it.
        var watchdog = AnswerDeadlines<Method>()
        let now = clock.read().monotonic
        watchdog.add(1, .journalGenerate, deadline: now + table.answerTime(for: .journalGenerate))
        watchdog.add(2, .accountGet, deadline: now + table.answerTime(for: .accountGet))
        XCTAssertEqual(watchdog.expire(now: now + 2.001).map(\.value), [.accountGet], "a normal call is cut at 2 s")
        XCTAssertEqual(watchdog.expire(now: now + 31.9).count, 0, "the long one is still awaited")
        XCTAssertEqual(watchdog.answer(1), .journalGenerate)

        // The long handler: Redis under the table's bound first, then the slow part (the clock
        // moves 10 s), then Redis work with a bound of its own; its answer is not cut.
        nonisolated(unsafe) var firstBound: Double?, laterBound: Double?
        let clock = clock
        table.register(
            MethodHandler(.journalGenerate) { [unowned table] _ in
                firstBound = RedisDeadline.current.map { RedisDeadline.secondsLeft(until: $0) }
                clock.advance(10)
                laterBound = table.boundedLikeACall { RedisDeadline.current.map { RedisDeadline.secondsLeft(until: $0) } }
                return .success("written")
            })
        let done = expectation(description: "answer")
        nonisolated(unsafe) var result: Result<JSONValue, APIError>?
        table.dispatch(.journalGenerate, MethodCall(subject: "u", role: .trader, params: [:])) {
            result = $0
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
        XCTAssertEqual(try? result?.get(), "written")
        XCTAssertLessThanOrEqual(firstBound ?? 9, 2, "its first Redis commands are bounded like any call's")
        XCTAssertGreaterThan(laterBound ?? 0, 1.5, "Redis work after the slow part gets a fresh callTimeout")
        XCTAssertLessThanOrEqual(laterBound ?? 9, 2)
    }

    func testAnUnavailableAnswerOfAMethodWithAnAllowanceDoesNotMakeRedisSuspect() {
        let table = MethodTable(workers: WorkerPool(threads: 1, name: "test-allowance-health"), callTimeout: 2, clock: clock)
        table.allowLonger(.journalGenerate, by: 30)
        table.register(MethodHandler(.journalGenerate) { _ in .failure(APIError(.unavailable, "the model timed out")) })
        table.register(MethodHandler(.accountGet) { _ in .failure(APIError(.unavailable, "Redis timed out")) })
        table.redisHealth = RedisHealth(address: RedisAddress(host: "127.0.0.1", port: 1), timeout: 0.2)  // never started
        XCTAssertEqual(table.answerWaiting(.journalGenerate, [:]), .failure(APIError(.unavailable, "the model timed out")))
        XCTAssertTrue(table.redisAnswering)
        XCTAssertEqual(table.answerWaiting(.accountGet, [:]), .failure(APIError(.unavailable, "Redis timed out")))
        XCTAssertFalse(table.redisAnswering)
    }
}
