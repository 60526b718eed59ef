import GatewayCore
import XCTest

/// A frame of `count` bytes with a name to follow it through the queue.
final class TestFrame: OutboundFrame, CustomStringConvertible {
    let name: String
    let count: Int
    init(_ name: String, bytes: Int = 10) {
        self.name = name
        count = bytes
    }
    var description: String { name }
}

/// The send queue and slow-consumer policy without a socket: a clock is a number the test moves.
final class OutboundQueueTests: XCTestCase {
    let policy = OutboundPolicy(softLimit: 3, hardLimit: 6, warnAfter: 1, closeAfter: 5, batchBytes: 35)

    func frames(_ n: Int, bytes: Int = 10) -> [TestFrame] { (0..<n).map { TestFrame("f\($0)", bytes: bytes) } }

    /// Everything the queue would write, write by write, as the writable callback drives it.
    func drain(_ queue: inout OutboundQueue<TestFrame>) -> [[String]] {
        var writes: [[String]] = []
        while true {
            switch queue.nextWrite() {
            case .none: return writes
            case .single(let frame): writes.append([frame.name])
            case .batch:
                var batch: [String] = []
                _ = queue.takeBatch { frame, _ in batch.append(frame.name) }
                writes.append(batch)
            }
        }
    }

    func testAnIdleConnectionIsArmedOnceAndFurtherFramesRideAlong() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        XCTAssertEqual(queue.enqueue(TestFrame("a")), .armWritable)
        XCTAssertEqual(queue.writeState, .awaitingWritable)
        XCTAssertEqual(queue.enqueue(TestFrame("b")), .queued)
        XCTAssertEqual(queue.writable(now: 0), .write)
        XCTAssertEqual(drain(&queue), [["a", "b"]], "two waiting frames leave in one batch")
        XCTAssertFalse(queue.wrote())
        XCTAssertEqual(queue.writeState, .idle)
        XCTAssertEqual(queue.enqueue(TestFrame("c")), .armWritable, "idle again: the next frame arms again")
    }

    func testFanOutStagesIdleConnectionsAndWritesThemDirectlyUnlessChoked() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        XCTAssertEqual(queue.enqueue(TestFrame("a"), staging: true), .stage)
        XCTAssertEqual(queue.enqueue(TestFrame("b"), staging: true), .queued, "staged once per batch")
        XCTAssertEqual(queue.unstage(choked: false), .writeNow)
        XCTAssertEqual(drain(&queue), [["a", "b"]])
        XCTAssertFalse(queue.wroteDirectly(ok: true), "all written: no callback needed")

        XCTAssertEqual(queue.enqueue(TestFrame("c"), staging: true), .stage)
        XCTAssertEqual(queue.unstage(choked: true), .armWritable, "a backed-up socket waits for its callback")
        XCTAssertEqual(queue.writeState, .awaitingWritable)
        XCTAssertEqual(queue.enqueue(TestFrame("d"), staging: true), .queued)
    }

    func testAFailedDirectWriteHangsUpAtTheNextCallback() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        _ = queue.enqueue(TestFrame("a"), staging: true)
        XCTAssertEqual(queue.unstage(choked: false), .writeNow)
        _ = queue.nextWrite()
        XCTAssertTrue(queue.wroteDirectly(ok: false))
        XCTAssertEqual(queue.writable(now: 0), .hangUp)
    }

    func testBatchesRespectTheByteLimitAndALargeFrameGoesAlone() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        for frame in frames(5) { _ = queue.enqueue(frame) }
        // 10 + 1 + 10 + 1 + 10 = 32 ≤ 35; a fourth frame would need 43.
        XCTAssertEqual(drain(&queue), [["f0", "f1", "f2"], ["f3", "f4"]])
        _ = queue.enqueue(TestFrame("big", bytes: 40))
        _ = queue.enqueue(TestFrame("small"))
        XCTAssertEqual(drain(&queue), [["big"], ["small"]])
    }

    func testBatchOffsetsLeaveRoomForTheSeparators() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        for frame in frames(3, bytes: 5) { _ = queue.enqueue(frame) }
        guard case .batch = queue.nextWrite() else { return XCTFail("expected a batch") }
        var offsets: [Int] = []
        let (taken, bytes) = queue.takeBatch { _, offset in offsets.append(offset) }
        XCTAssertEqual(offsets, [0, 6, 12])
        XCTAssertEqual(taken, 3)
        XCTAssertEqual(bytes, 17)
    }

    func testPastTheHardLimitTheQueueIsEmptiedAndTheConnectionMustClose() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        for frame in frames(6) { XCTAssertNotEqual(queue.enqueue(frame), .overflow) }
        XCTAssertEqual(queue.enqueue(TestFrame("one too many")), .overflow)
        XCTAssertTrue(queue.isEmpty, "memory is given back at once")
    }

    func testAReplayEarnsRoomThatIsGivenBackAsItIsWritten() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        queue.grantReplayAllowance(4)
        for frame in frames(10) { XCTAssertNotEqual(queue.enqueue(frame), .overflow) }
        XCTAssertEqual(queue.enqueue(TestFrame("x")), .overflow)

        var replayed = OutboundQueue<TestFrame>(policy: policy)
        replayed.grantReplayAllowance(4)
        for frame in frames(10) { _ = replayed.enqueue(frame) }
        _ = drain(&replayed)
        for frame in frames(6) { XCTAssertNotEqual(replayed.enqueue(frame), .overflow) }
        XCTAssertEqual(replayed.enqueue(TestFrame("x")), .overflow, "the allowance is spent once written")
    }

    func testASlowConsumerIsWarnedOnceThenCutOff() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        for frame in frames(4) { _ = queue.enqueue(frame) }  // over the soft limit of 3
        XCTAssertEqual(queue.checkLag(now: 100), .fine, "the episode starts")
        XCTAssertEqual(queue.checkLag(now: 100.9), .fine)
        XCTAssertEqual(queue.checkLag(now: 101), .warn(waiting: 4))
        queue.appendWarning(TestFrame("lagged"))
        XCTAssertEqual(queue.count, 5)
        XCTAssertEqual(queue.checkLag(now: 103), .fine, "warned once per episode")
        XCTAssertEqual(queue.checkLag(now: 105), .cut)
        XCTAssertTrue(queue.isEmpty)
    }

    func testABurstThatDrainsInTimePassesSilentlyAndResetsTheEpisode() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        for frame in frames(4) { _ = queue.enqueue(frame) }
        XCTAssertEqual(queue.checkLag(now: 0), .fine)
        XCTAssertEqual(queue.checkLag(now: 0.5), .fine)
        _ = queue.writable(now: 0.6)
        _ = drain(&queue)
        XCTAssertEqual(queue.checkLag(now: 0.7), .fine, "caught up")
        for frame in frames(4) { _ = queue.enqueue(frame) }
        XCTAssertEqual(queue.checkLag(now: 4.5), .fine, "a new episode starts here")
        XCTAssertEqual(queue.checkLag(now: 5.25), .fine)
        XCTAssertEqual(queue.checkLag(now: 5.5), .warn(waiting: 4))
    }

    func testClosingSendsLastWordsThenWaitsForTheLingerThenCloses() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        _ = queue.enqueue(TestFrame("rate limited error"))
        XCTAssertTrue(queue.beginClose(.rateLimited, "message rate limit exceeded", notBefore: 10.5))
        XCTAssertFalse(queue.beginClose(.goingAway, "later close", notBefore: 0), "the first close stands")
        XCTAssertEqual(queue.enqueue(TestFrame("after")), .dropped)
        XCTAssertEqual(queue.writable(now: 10), .lastWords)
        XCTAssertEqual(drain(&queue), [["rate limited error"]])
        XCTAssertEqual(queue.writable(now: 10.1), .waitForLinger)
        XCTAssertFalse(queue.closeDue(now: 10.4))
        XCTAssertTrue(queue.closeDue(now: 10.5))
        XCTAssertEqual(queue.writable(now: 10.5), .close(.rateLimited, "message rate limit exceeded"))
        XCTAssertEqual(queue.checkLag(now: 99), .fine, "a closing connection is not policed again")
    }

    func testTheCloseIsHandedOutOnce() {
        var queue = OutboundQueue<TestFrame>(policy: policy)
        XCTAssertTrue(queue.beginClose(.rateLimited, "message rate limit exceeded", notBefore: 0))
        XCTAssertEqual(queue.writable(now: 1), .close(.rateLimited, "message rate limit exceeded"))
        // While the transport waits for the client's close frame, further writable callbacks (an
        // event or pong enqueued meanwhile asks for one) must not close again: that would drop
        // the socket before its close frame went out.
        XCTAssertEqual(queue.enqueue(TestFrame("pong")), .dropped)
        XCTAssertEqual(queue.writable(now: 1.1), .nothing)
        XCTAssertEqual(queue.writable(now: 2), .nothing)
        XCTAssertFalse(queue.closeDue(now: 2))
    }

    func testTheGatewayPolicyFollowsSendQueueMax() {
        let small = OutboundPolicy.gateway(sendQueueMax: 10)
        XCTAssertEqual(small.hardLimit, 4096, "never below two reads of the bridge")
        let large = OutboundPolicy.gateway(sendQueueMax: 2000)
        XCTAssertEqual(large.hardLimit, 8000)
        XCTAssertEqual(large.softLimit, 2000)
    }
}
