import JSONCodec

/// Strict field reads for the exchange decoders: each names the field it wanted, so a decode
/// error says which one broke the documented format.
struct PayloadFields {
    /// The object read.
    let value: JSONValue
    /// The path to it, for messages (`k.`, `data[0].`, or empty).
    let path: String

    /// The member `key`, or a decode error naming it.
    func member(_ key: String) throws(KlineDecodeError) -> JSONValue {
        guard let v = value[key] else { throw KlineDecodeError("\(path)\(key) is missing") }
        return v
    }

    /// An integer member (ms timestamps).
    func int(_ key: String) throws(KlineDecodeError) -> Int64 {
        guard case .int(let i) = try member(key) else { throw KlineDecodeError("\(path)\(key) must be an integer") }
        return i
    }

    /// A string member.
    func string(_ key: String) throws(KlineDecodeError) -> String {
        guard let s = try member(key).stringValue else { throw KlineDecodeError("\(path)\(key) must be a string") }
        return s
    }

    /// A decimal-string member (prices and volumes).
    func decimal(_ key: String) throws(KlineDecodeError) -> Double {
        guard let s = try member(key).stringValue, let d = DecimalString.parse(s) else {
            throw KlineDecodeError("\(path)\(key) must be a decimal string")
        }
        return d
    }

    /// A boolean member.
    func bool(_ key: String) throws(KlineDecodeError) -> Bool {
        guard let b = try member(key).boolValue else { throw KlineDecodeError("\(path)\(key) must be a boolean") }
        return b
    }

    /// Parses `text` as JSON, or a decode error.
    static func parse(_ text: String) throws(KlineDecodeError) -> JSONValue {
        do { return try JSONCodec.parse(text) } catch { throw KlineDecodeError("not JSON") }
    }

    /// A REST kline row whose columns 1–5 are open, high, low, close and volume as decimal
    /// strings (the layout Binance and Bybit share after the open time).
    static func kline(
        _ row: [JSONValue], symbol: String, interval: KlineInterval, openTime: Int64, closed: Bool
    ) throws(KlineDecodeError) -> ExchangeKline {
        ExchangeKline(
            symbol: symbol, interval: interval, openTime: openTime,
            open: try decimal(row, 1, "open"), high: try decimal(row, 2, "high"),
            low: try decimal(row, 3, "low"), close: try decimal(row, 4, "close"),
            volume: try decimal(row, 5, "volume"), closed: closed)
    }

    /// The decimal string at `index` of a row.
    static func decimal(_ row: [JSONValue], _ index: Int, _ name: String) throws(KlineDecodeError) -> Double {
        guard let s = row[index].stringValue, let d = DecimalString.parse(s) else {
            throw KlineDecodeError("\(name) (column \(index)) must be a decimal string")
        }
        return d
    }
}
