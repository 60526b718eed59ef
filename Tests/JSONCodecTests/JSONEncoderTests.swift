import XCTest

@testable import JSONCodec

#if canImport(Glibc)
    import Glibc
#endif

/// The Swift encoder: escaping, both double styles, round trips, and byte equality with what
/// jansson (the previous encoder of the wire format) and the previous report renderer wrote.
final class JSONEncoderTests: XCTestCase {
    private func wire(_ value: JSONValue) -> String { JSONCodec.encodeString(value) }
    private func shortest(_ value: JSONValue) -> String { JSONCodec.encodeString(value, doubles: .shortest) }

    func testStringEscaping() {
        XCTAssertEqual(wire(.string("a\"b\\c/d")), #""a\"b\\c/d""#, "quotes and backslashes escaped, slash not")
        XCTAssertEqual(wire(.string("\u{8}\u{C}\n\r\t")), #""\b\f\n\r\t""#)
        XCTAssertEqual(
            wire(.string("\u{0}\u{1}\u{1F}\u{7F}")), "\"\\u0000\\u0001\\u001F\u{7F}\"",
            "other control characters as upper-case \\u00XX; DEL passes")
        XCTAssertEqual(
            wire(.string("é€😀 \u{2028}\u{2029}")), "\"é€😀 \u{2028}\u{2029}\"",
            "non-ASCII, U+2028 and U+2029 pass through as UTF-8")
        XCTAssertEqual(wire(["k\"ey\n": "v"]), #"{"k\"ey\n":"v"}"#, "keys escaped like strings")
        XCTAssertEqual(wire(.string("")), #""""#)
    }

    func testShortestStyleKeepsEveryBit() {
        XCTAssertEqual(
            shortest([.double(0.1 + 0.2), .double(30000), .double(1e-7), .double(1e20), .double(-0.0)]),
            "[0.30000000000000004,30000.0,1e-07,1e+20,-0.0]")
        // Previously TradingCore's renderer; reports write numbers through `plain`.
        XCTAssertEqual(
            shortest(.array([.number(.nan), .number(.infinity), .number(-1.5), .number(1e-7)])),
            "[null,null,-1.5,1e-07]")
        XCTAssertEqual(shortest(.string("a\"b\\c\n\u{1}")), #""a\"b\\c\n\u0001""#)
        XCTAssertEqual(
            shortest([.plain(1000), .plain(-0.0), .plain(2.5), .plain(1e15), .plain(nil), .plain(-.infinity)]),
            "[1000,0,2.5,1000000000000000.0,null,null]")
    }

    func testSignificant15Style() {
        XCTAssertEqual(
            wire([.double(29717.13), .double(0.1 + 0.2), .double(30000), .double(-0.0), .double(0)]),
            "[29717.13,0.3,30000.0,-0.0,0.0]")
        XCTAssertEqual(
            wire([
                .double(1e-7), .double(1.5e-5), .double(0.0001), .double(1e15), .double(1e20),
                .double(123456789012345), .double(1.7976931348623157e308), .double(.leastNonzeroMagnitude),
            ]),
            "[1e-7,1.5e-5,0.0001,1e15,1e20,123456789012345.0,1.79769313486232e308,4.94065645841247e-324]")
        XCTAssertEqual(
            wire([.double(.nan), .double(.infinity), .double(-.infinity)]), "[null,null,null]",
            "JSON has no NaN or infinity")
        XCTAssertEqual(
            wire([.int(0), .int(-7), .int(.max), .int(.min)]),
            "[0,-7,9223372036854775807,-9223372036854775808]")
    }

    /// The fast path must equal C's `%.15g` plus jansson's fix-ups (the slow path) on every
    /// kind of double: random bit patterns, random prices, sums with arithmetic noise, halves.
    func testSignificant15MatchesPrintfEverywhere() {
        var rng = SystemRandomNumberGenerator()
        var samples: [Double] = [
            0.5, 2.5, 1e-5, 9.999999999999995, 0.30000000000000004, 999999999999999.9,
            9999999999999998, 1e16, 123.456e-300, Double.leastNormalMagnitude, Double.greatestFiniteMagnitude,
        ]
        for _ in 0..<100_000 { samples.append(Double(bitPattern: rng.next())) }
        for _ in 0..<100_000 { samples.append((Double.random(in: 0..<100_000, using: &rng) * 100).rounded() / 100) }
        for _ in 0..<100_000 {
            samples.append(Double.random(in: -1...1, using: &rng) * pow(10, Double(Int.random(in: -20...20, using: &rng))))
        }
        for _ in 0..<20_000 {
            // A 15-digit decimal plus a half at the 16th digit, nudged by a few units in the last place.
            let base = Double(Int64.random(in: 100_000_000_000_000..<1_000_000_000_000_000, using: &rng)) + 0.5
            var d = base / pow(10, Double(Int.random(in: 0...20, using: &rng)))
            for _ in 0..<Int.random(in: 0...3, using: &rng) { d = d.nextUp }
            samples.append(d)
        }
        var mismatches = 0
        for d in samples where d.isFinite {
            var fast: [UInt8] = [], slow: [UInt8] = []
            Significant15.write(d, to: &fast)
            Significant15.writeWithPrintf(d, to: &slow)
            if fast != slow {
                mismatches += 1
                if mismatches < 5 {
                    XCTFail("\(d): \(String(decoding: fast, as: UTF8.self)) vs \(String(decoding: slow, as: UTF8.self))")
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testRoundTripOfNestedValues() throws {
        let value: JSONValue = [
            "type": "event", "list": [1, 2.5, "x", nil, true, ["deep": [[], [:]]]],
            "price": .double(29717.13), "n": .int(-3), "text": "é\u{2028}\n\"", "empty": "",
        ]
        XCTAssertEqual(try JSONCodec.parse(JSONCodec.encode(value)), value)
        XCTAssertEqual(try JSONCodec.parse(JSONCodec.encode(value, doubles: .shortest)), value)
        let noisy: JSONValue = [.double(0.1 + 0.2), .double(1 / 3), .double(10000)]
        XCTAssertEqual(try JSONCodec.parse(JSONCodec.encode(noisy)), noisy.roundTripped())
        XCTAssertEqual(try JSONCodec.parse(JSONCodec.encode(noisy, doubles: .shortest)), noisy, "shortest keeps every bit")
    }

    func testPrettyEncoding() {
        let value: JSONValue = ["a": 1, "b": [true, nil], "c": [:], "d": []]
        XCTAssertEqual(
            String(decoding: JSONCodec.encodePretty(value), as: UTF8.self),
            "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ],\n  \"c\": {},\n  \"d\": []\n}\n")
    }

    /// Event data is validated and compacted without a `JSONValue`; duplicate keys keep the
    /// first place with the last value, as jansson kept them.
    func testAppendCompact() {
        func compact(_ text: String) -> String? {
            var out = Array("x=".utf8)
            let ok = Array(text.utf8).withUnsafeBytes { JSONCodec.appendCompact($0, to: &out) }
            return ok ? String(decoding: out, as: UTF8.self) : nil
        }
        XCTAssertEqual(
            compact(" { \"p\" : 1.50 , \"q\": 1E5, \"a\":1, \"s\": \"\\u00e9\\/\" } "),
            #"x={"p":1.5,"q":100000.0,"a":1,"s":"é/"}"#)
        XCTAssertEqual(compact(#"{"a":1,"b":2,"a":3}"#), #"x={"a":3,"b":2}"#)
        XCTAssertNil(compact("{\"a\":"))
        XCTAssertNil(compact(""))
    }
}
