import JSONCodec

/// The input as one JSON document. Whatever parses must survive the round trip
/// through `JSONWriter` in each style, and the no-tree path (`appendCompact`) must write exactly
/// what parse-then-encode writes. Anything else is a finding: `fatalError` makes libFuzzer keep
/// the input.
func fuzzJSON(_ bytes: UnsafeRawBufferPointer) {
    if let value = try? JSONCodec.parse(bytes) {
        checkRoundTrips(value, bytes)
    } else if let lenient = try? JSONCodec.parse(bytes, rejectDuplicateKeys: false) {
        // Duplicate keys: the event path (`appendCompact`) keeps the last value, like the lenient parse.
        var compact: [UInt8] = []
        guard JSONCodec.appendCompact(bytes, to: &compact), compact == JSONCodec.encode(lenient) else {
            fatalError("appendCompact disagrees with parse+encode on a document with duplicate keys")
        }
    } else {
        var compact: [UInt8] = [1, 2]
        guard !JSONCodec.appendCompact(bytes, to: &compact), compact == [1, 2] else {
            fatalError("appendCompact accepted (or changed its buffer for) a document parse refuses")
        }
    }
}

private func checkRoundTrips(_ value: JSONValue, _ bytes: UnsafeRawBufferPointer) {
    let shortest = JSONCodec.encode(value, doubles: .shortest)
    guard let again = try? JSONCodec.parse(shortest), again == value else {
        fatalError("shortest round trip changed the value: \(String(decoding: shortest, as: UTF8.self))")
    }
    let wire = JSONCodec.encode(value)
    guard let wireAgain = try? JSONCodec.parse(wire), wireAgain == value.roundTripped() else {
        fatalError("significant15 round trip differs from roundTripped(): \(String(decoding: wire, as: UTF8.self))")
    }
    guard !wire.contains(UInt8(ascii: "\n")) else { fatalError("compact encoding holds a raw newline") }
    let pretty = JSONCodec.encodePretty(value, doubles: .shortest)
    guard let prettyAgain = try? JSONCodec.parse(pretty), prettyAgain == value else {
        fatalError("pretty round trip changed the value: \(String(decoding: pretty, as: UTF8.self))")
    }
    var compact: [UInt8] = Array("prefix".utf8)
    guard JSONCodec.appendCompact(bytes, to: &compact), compact == Array("prefix".utf8) + wire else {
        fatalError("appendCompact differs from encode(parse(json))")
    }
}
