import GatewayCore
import XCTest

@testable import Bedrock

/// Pure pieces of the bridge: stream ids, frame encoding, retention decisions (no Redis).
final class BridgeUnitTests: XCTestCase {
    func testStreamIDParsingAndOrder() {
        XCTAssertEqual(StreamID("1700000000000-5"), StreamID(ms: 1_700_000_000_000, seq: 5))
        XCTAssertEqual(StreamID("42"), StreamID(ms: 42, seq: 0))
        for bad in ["", "-", "1-", "-1", "a-1", "1-b", "1-2-3", "+", "$", " 1", "18446744073709551616-0"] {
            XCTAssertNil(StreamID(bad), bad)
        }
        XCTAssertLessThan(StreamID("9-9")!, StreamID("10-0")!, "numeric, not lexicographic")
        XCTAssertLessThan(StreamID("10-2")!, StreamID("10-10")!)
        XCTAssertEqual(StreamID("7")!.description, "7-0")
    }

    func testFrameIsCompactAndTopicIsEscaped() throws {
        let prefix = EventFrameEncoder.prefix(topic: #"we"ird\topic"#)
        let frame = try XCTUnwrap(
            EventFrameEncoder.frame(
                prefix: prefix, id: "1-0",
                event: Array("[ 1,\n 2 , \"\\u00e9\\n\" ]".utf8)))
        XCTAssertEqual(
            String(decoding: frame, as: UTF8.self),
            #"{"type":"event","topic":"we\"ird\\topic","id":"1-0","data":[1,2,"é\n"]}"#)
        XCTAssertFalse(frame.contains(10))
        let pubsub = try XCTUnwrap(
            EventFrameEncoder.frame(
                prefix: EventFrameEncoder.prefix(topic: "t"), id: nil,
                event: Array(#"{"a":null}"#.utf8)))
        XCTAssertEqual(String(decoding: pubsub, as: UTF8.self), #"{"type":"event","topic":"t","id":null,"data":{"a":null}}"#)
        for bad in ["", "{", "{\"a\":1} trailing", "nan", "\u{0}"] {
            XCTAssertNil(EventFrameEncoder.frame(prefix: prefix, id: "1-0", event: Array(bad.utf8)), bad)
        }
    }

    func testRetentionDecision() {
        func info(length: Int64, added: Int64?, last: String, maxDeleted: String = "0-0", first: String?) -> StreamReplay.Info {
            StreamReplay.Info(
                length: length, entriesAdded: added, lastGenerated: StreamID(last)!,
                maxDeleted: StreamID(maxDeleted)!, firstEntry: first.flatMap(StreamID.init))
        }
        let s = StreamID("5-0")!, p = StreamID("9-0")!
        XCTAssertTrue(StreamReplay.complete(after: s, position: p, info: info(length: 9, added: 9, last: "9-0", first: "1-0")))
        XCTAssertFalse(StreamReplay.complete(after: s, position: p, info: info(length: 3, added: 9, last: "9-0", first: "7-0")))
        XCTAssertTrue(StreamReplay.complete(after: s, position: p, info: info(length: 5, added: 9, last: "9-0", first: "5-0")))
        XCTAssertFalse(
            StreamReplay.complete(
                after: s, position: p, info: info(length: 8, added: 9, last: "9-0", maxDeleted: "6-0", first: "1-0")))
        XCTAssertFalse(StreamReplay.complete(after: s, position: p, info: info(length: 0, added: 9, last: "9-0", first: nil)))
        XCTAssertTrue(StreamReplay.complete(after: p, position: p, info: info(length: 0, added: 9, last: "9-0", first: nil)))
        XCTAssertFalse(
            StreamReplay.complete(
                after: StreamID("10-0")!, position: p, info: info(length: 9, added: 9, last: "9-0", first: "1-0")))
        XCTAssertFalse(StreamReplay.complete(after: s, position: p, info: nil), "stream deleted")
        XCTAssertTrue(StreamReplay.complete(after: s, position: StreamID("0-0")!, info: nil), "never existed")
    }
}
