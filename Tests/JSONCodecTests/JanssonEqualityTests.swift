import CJansson
import XCTest

@testable import JSONCodec

/// Byte equality with the previous wire encoder: jansson's `json_dumpb` with
/// `JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)`, on representative and random
/// values. (The test builds jansson trees itself; the product code only parses with jansson.)
final class JanssonEqualityTests: XCTestCase {
    /// The old encoder, as it was: build a jansson tree, dump it.
    private func janssonEncode(_ value: JSONValue) -> String {
        let node = makeNode(value)
        defer { bedrock_json_decref(node) }
        let flags = Int(JSON_COMPACT | JSON_ENCODE_ANY) | (15 << 11)
        let size = json_dumpb(node, nil, 0, flags)
        var bytes = [UInt8](repeating: 0, count: size)
        _ = bytes.withUnsafeMutableBytes { json_dumpb(node, $0.baseAddress!.assumingMemoryBound(to: CChar.self), size, flags) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func makeNode(_ value: JSONValue) -> UnsafeMutablePointer<json_t> {
        switch value {
        case .null: return json_null()
        case .bool(let b): return b ? json_true() : json_false()
        case .int(let i): return json_integer(json_int_t(i))
        case .double(let d): return d.isFinite ? json_real(d) : json_null()
        case .string(let s):
            var s = s
            return s.withUTF8 {
                json_stringn_nocheck(
                    UnsafeRawPointer($0.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self),
                    $0.count)
            }
        case .array(let items):
            let node = json_array()!
            for item in items { json_array_append_new(node, makeNode(item)) }
            return node
        case .object(let object):
            let node = json_object()!
            for (key, item) in object.members {
                var k = key
                k.withUTF8 { buf in
                    _ = json_object_setn_new_nocheck(
                        node,
                        UnsafeRawPointer(buf.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self),
                        buf.count, makeNode(item))
                }
            }
            return node
        }
    }

    func testRepresentativeValues() {
        let values: [JSONValue] = [
            [
                "type": "event", "topic": "market.btcusdt", "id": "1700000000000-0",
                "data": ["price": 29717.13, "qty": .double(0.001), "side": "BUY", "ts": .int(1_700_000_000_000)],
            ],
            ["type": "error", "code": "RATE_LIMITED", "message": "slow down: \"5/s\"\n"],
            [
                "balance": .double(10000), "pnl": .double(-12.345678901234567), "ratio": .double(0.1 + 0.2),
                "tiny": .double(1.5e-9), "huge": .double(6.02e23), "zero": .double(-0.0), "none": nil, "ok": true,
            ],
            ["text": "é€😀\u{2028}\u{0}\u{1F}\t/", "nested": [[], [:], [[1, [2, [3.25]]]]]],
            .array((0..<50).map { .double(Double($0) * 0.1) }),
        ]
        for value in values { XCTAssertEqual(JSONCodec.encodeString(value), janssonEncode(value)) }
    }

    func testRandomDoublesAndStrings() {
        var rng = SystemRandomNumberGenerator()
        var doubles: [JSONValue] = []
        for i in 0..<30_000 {
            let d: Double
            switch i % 3 {
            case 0: d = Double(bitPattern: rng.next())
            case 1: d = (Double.random(in: 0..<1_000_000, using: &rng) * 100).rounded() / 100
            default: d = Double.random(in: -1...1, using: &rng) * pow(10, Double(Int.random(in: -30...30, using: &rng)))
            }
            doubles.append(.double(d))
        }
        XCTAssertEqual(JSONCodec.encodeString(.array(doubles)), janssonEncode(.array(doubles)))
        let strings: [JSONValue] = (0..<2_000).map { _ in
            .string(
                String(
                    String.UnicodeScalarView(
                        (0..<Int.random(in: 0...12, using: &rng)).compactMap { _ in
                            Unicode.Scalar(
                                [0, 0x1F, 0x22, 0x5C, 0x7F, 0xE9, 0x2028, 0x1F600, 0x41][Int.random(in: 0...8, using: &rng)])
                        })))
        }
        XCTAssertEqual(JSONCodec.encodeString(.array(strings)), janssonEncode(.array(strings)))
    }
}
