import JSONCodec
import RedisClient
import TradingCore

/// One closed bar read from a `<prefix>stream:klines:{MARKET}:{INTERVAL}` entry (`kline.closed`).
public struct StreamBar: Sendable, Equatable {
    /// The stream entry id.
    public var id: String
    /// Market, e.g. `BTCUSDT` (decoded events hold the canonical id).
    public var market: String
    /// Interval, e.g. `1h`.
    public var interval: String
    /// The bar (open time in ms).
    public var bar: Bar
    /// A history bar (`"backfill": true` in the event: backfilled from an exchange, or among the
    /// first N of `bedrock replay --fast-first N`): it warms the engine's strategies up and trades
    /// only with `engine.trade_history` (SPEC §10).
    public var backfill: Bool

    /// Creates a stream bar (a live one unless `backfill`).
    public init(id: String, market: String, interval: String, bar: Bar, backfill: Bool = false) {
        self.id = id; self.market = market; self.interval = interval; self.bar = bar; self.backfill = backfill
    }

    /// Decodes a `kline.closed` event; nil when `json` is not one (wrong type, missing field) or
    /// its prices break `Bar.problem` (zero, negative, high below low, ...). Only a JSON `true`
    /// in `backfill` makes a history bar (anything else there is a live bar, as without the field).
    /// The market is held as its canonical id (`btc/usdt` → `BTCUSDT`), so the signals and
    /// positions of its bars are recorded under it whatever the publisher wrote.
    public static func decode(id: String, eventJSON json: String) -> StreamBar? {
        guard let v = try? JSONCodec.parse(json), v["event_type"]?.stringValue == KlineEvent.eventType,
            let market = v["market"]?.stringValue, let interval = v["interval"]?.stringValue,
            let openTime = v["open_time"], let open = number(v["open"]), let high = number(v["high"]),
            let low = number(v["low"]), let close = number(v["close"])
        else { return nil }
        guard let time = openTime.intValue ?? openTime.stringValue.flatMap(KlineEvent.parseRFC3339) else { return nil }
        let volume = number(v["volume"]) ?? 0
        // The CSV loader's price rule: a bar with a zero, negative or inconsistent price is not traded on.
        guard Bar.problem(open: open, high: high, low: low, close: close, volume: volume) == nil else { return nil }
        return StreamBar(
            id: id, market: MarketName.canonical(market) ?? market, interval: interval,
            bar: Bar(
                time: time, open: open, high: high, low: low, close: close,
                volume: volume),
            backfill: v["backfill"]?.boolValue == true)
    }

    /// Decodes one `[id, [field, value, ...]]` stream entry (the field `event`).
    static func decode(entry: RedisReply) -> (id: String, bar: StreamBar?)? {
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
        let fields = parts[1].array ?? []
        var i = 0
        while i + 1 < fields.count {
            if fields[i].string == "event", let json = fields[i + 1].string {
                return (id, decode(id: id, eventJSON: json))
            }
            i += 2
        }
        return (id, nil)
    }

    private static func number(_ v: JSONValue?) -> Double? {
        guard let v else { return nil }
        return v.doubleValue ?? v.stringValue.flatMap(Double.init)
    }

    /// The bar's open time as written in `bar_time` (RFC 3339 UTC, the `kline.closed` form).
    public var barTime: String { RFC3339.format(milliseconds: bar.time) }

    /// The bar's close time (open time + the interval), or the open time for an unknown interval.
    public var closeMillis: Int64 { bar.time + (StreamBar.intervalMillis(interval) ?? 0) }

    /// Milliseconds of `1m`, `15m`, `1h`, `4h`, `1d`, `1w`, `30s`...; nil when not of that form.
    public static func intervalMillis(_ interval: String) -> Int64? {
        guard let unit = interval.last, let n = Int64(interval.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n * 1000
        case "m": return n * 60_000
        case "h": return n * 3_600_000
        case "d": return n * 86_400_000
        case "w": return n * 7 * 86_400_000
        default: return nil
        }
    }

    /// `<prefix>stream:klines:{market}:{interval}`.
    public static func streamKey(prefix: String, market: String, interval: String) -> String {
        "\(prefix)stream:klines:\(market):\(interval)"
    }
}
