import XCTest

@testable import JSONCodec

final class JSONCodecTests: XCTestCase {
    func testRoundTripKeepsOrderAndKinds() throws {
        let text = #"{"type":"event","n":3,"x":1.5,"ok":true,"none":null,"list":[1,"a"],"nested":{"b":2,"a":1}}"#
        let value = try JSONCodec.parse(text)
        XCTAssertEqual(value["n"], .int(3))
        XCTAssertEqual(value["x"], .double(1.5))
        XCTAssertEqual(value["nested"]?.objectValue?.keys, ["b", "a"])
        XCTAssertEqual(JSONCodec.encodeString(value), text)
    }

    func testNewlinesInStringsAreEscapedSoBatchingIsSafe() {
        let bytes = JSONCodec.encode(["msg": "line1\nline2"])
        XCTAssertFalse(bytes.contains(UInt8(ascii: "\n")))
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #"{"msg":"line1\nline2"}"#)
    }

    func testErrorsSayWhere() {
        XCTAssertThrowsError(try JSONCodec.parse("{\"a\":")) { error in
            XCTAssertTrue("\(error)".contains("line 1"), "\(error)")
        }
        XCTAssertThrowsError(try JSONCodec.parse(#"{"a":1,"a":2}"#))
        XCTAssertThrowsError(try JSONCodec.parse(""))
    }
}

extension JSONCodecTests {
    func testPricesPrintAsWritten() {
        XCTAssertEqual(
            JSONCodec.encodeString(["p": 29717.13, "q": .double(0.1 + 0.2), "n": 30000.0]), #"{"p":29717.13,"q":0.3,"n":30000.0}"#
        )
    }
}
