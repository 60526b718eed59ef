import Foundation
import JSONCodec
import TradingCore

/// The `kline.closed` event (SPEC §7): one closed bar of one market and interval, as published to
/// `<prefix>stream:klines:{MARKET}:{INTERVAL}` by `bedrock replay` (or by any outside feed).
///
/// Wire form (compact JSON, written with jansson, numbers as JSON numbers):
/// `{"event_type":"kline.closed","schema_version":"2.0","timestamp":<RFC 3339 publish time>,
/// "market","interval","open_time":<RFC 3339 bar open time>,"open","high","low","close","volume"}`,
/// plus `"symbol":"BTC/USDT"` for a configured market whose display symbol is known, and
/// `"backfill":true` on a history bar (backfilled, or among the first N of a replay) that warms the
/// live engine up without trading (SPEC §10).
public enum KlineEvent {
    /// The `event_type` value.
    public static let eventType = "kline.closed"
    /// The envelope's `schema_version`.
    public static let schemaVersion = "2.0"

    /// The event JSON for `bar`, stamped with `now` (ms since epoch); `symbol` and `backfill` are
    /// written only when given (a nil symbol, a false backfill flag leave the field out).
    public static func encode(
        _ bar: Bar, market: String, interval: String, now: Int64, symbol: String? = nil, backfill: Bool = false
    ) -> String {
        var object: JSONObject = [
            "event_type": .string(eventType),
            "schema_version": .string(schemaVersion),
            "timestamp": .string(RFC3339.format(milliseconds: now)),
            "market": .string(market),
            "interval": .string(interval),
            "open_time": .string(RFC3339.format(milliseconds: bar.time)),
            "open": .number(bar.open),
            "high": .number(bar.high),
            "low": .number(bar.low),
            "close": .number(bar.close),
            "volume": .number(bar.volume),
        ]
        if let symbol { object["symbol"] = .string(symbol) }
        if backfill { object["backfill"] = .bool(true) }
        return JSONCodec.encodeString(.object(object))
    }

    /// The bar's open time (ms since epoch) in a `kline.closed` event, or nil when the text is not
    /// such an event or its `open_time` is not an RFC 3339 time (or epoch ms).
    public static func openTime(ofEvent json: String) -> Int64? {
        guard let value = try? JSONCodec.parse(json),
            value["event_type"]?.stringValue == eventType,
            let openTime = value["open_time"]
        else { return nil }
        if let ms = openTime.intValue { return ms }
        guard let text = openTime.stringValue else { return nil }
        return parseRFC3339(text)
    }

    /// Milliseconds since epoch of an RFC 3339 date-time (`Z` or an offset, optional fraction).
    public static func parseRFC3339(_ text: String) -> Int64? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: text) ?? fractional.date(from: text) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
