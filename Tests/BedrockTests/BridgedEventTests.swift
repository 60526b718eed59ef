import JSONCodec
import XCTest

@testable import Bedrock

final class BridgedEventTests: XCTestCase {
    private func frame(_ event: BridgedEvent) throws -> JSONValue {
        try JSONCodec.parse(event.frame)
    }

    func testAGapOnAUsersStreamSaysUserLikeItsEvents() throws {
        let gap = BridgedEvent(gapIn: "user:alice", after: "1-0", next: "5-0")
        XCTAssertEqual(gap.topic, "user:alice")  // routed to alice's subscribers only
        XCTAssertTrue(gap.isGap)
        XCTAssertEqual(try frame(gap), ["type": "gap", "topic": "user", "after": "1-0", "next": "5-0"])
    }

    func testAGapOnASharedTopicNamesIt() throws {
        let gap = BridgedEvent(gapIn: "klines:BTCUSDT:1m", after: "1-0", next: "5-0")
        XCTAssertEqual(try frame(gap).objectValue?["topic"], "klines:BTCUSDT:1m")
    }
}
