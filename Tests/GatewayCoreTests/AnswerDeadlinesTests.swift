import GatewayCore
import XCTest

/// The loop's watchdog over calls answered on other threads: each call gets exactly one answer,
/// its own in time or UNAVAILABLE at its deadline. Time is a number the test passes in.
final class AnswerDeadlinesTests: XCTestCase {
    func testAnAnswerInTimeGoesOutAndItsDeadlineFindsNothing() {
        var table = AnswerDeadlines<String>()
        table.add(1, "a", deadline: 2)
        XCTAssertEqual(table.answer(1), "a")
        XCTAssertTrue(table.expire(now: 5).isEmpty)
        XCTAssertNil(table.nextDeadline)
        XCTAssertEqual(table.count, 0)
    }

    func testAtItsDeadlineACallIsHandedBackOnceAndItsLateAnswerIsDropped() {
        var table = AnswerDeadlines<String>()
        table.add(1, "a", deadline: 2)
        XCTAssertTrue(table.expire(now: 1.999).isEmpty, "not before its deadline")
        let overdue = table.expire(now: 2)
        XCTAssertEqual(overdue.map(\.serial), [1])
        XCTAssertEqual(overdue.map(\.value), ["a"])
        XCTAssertNil(table.answer(1), "the worker's answer after the deadline has nowhere to go")
        XCTAssertTrue(table.expire(now: 10).isEmpty, "and the deadline never answers twice")
    }

    func testEachCallKeepsItsOwnDeadline() {
        var table = AnswerDeadlines<Int>()
        for serial in UInt64(1)...5 { table.add(serial, Int(serial), deadline: 2 + Double(serial) / 10) }
        XCTAssertEqual(table.nextDeadline, 2.1)
        XCTAssertEqual(table.answer(1), 1)
        XCTAssertEqual(table.answer(3), 3)
        XCTAssertEqual(table.nextDeadline, 2.2, "answered calls no longer set the next alarm")
        XCTAssertEqual(table.expire(now: 2.35).map(\.serial), [2], "only what is overdue, not the later ones")
        XCTAssertEqual(table.nextDeadline, 2.4)
        XCTAssertEqual(table.expire(now: 3).map(\.serial), [4, 5])
        XCTAssertNil(table.nextDeadline)
    }

    func testAnEarlierDeadlineAddedLaterStillComesFirst() {
        var table = AnswerDeadlines<String>()
        table.add(1, "late", deadline: 5)
        table.add(2, "early", deadline: 3)
        XCTAssertEqual(table.nextDeadline, 3)
        XCTAssertEqual(table.expire(now: 4).map(\.value), ["early"])
        XCTAssertEqual(table.expire(now: 5).map(\.value), ["late"])
    }

    func testAnsweredCallsDoNotPileUp() {
        var table = AnswerDeadlines<Int>()
        for serial in UInt64(1)...10_000 {
            table.add(serial, 0, deadline: Double(serial))
            XCTAssertEqual(table.answer(serial), 0)
        }
        XCTAssertEqual(table.count, 0)
        XCTAssertNil(table.nextDeadline, "calls answered in order leave nothing behind")
    }
}
