import JSONCodec
import TradingCore

/// One market and interval as `markets.list` shows it: its newest bar and length (the klines
/// stream) and what the live ingest says about it (the status hash, when one exists).
struct MarketListing {
    /// The status hash fields read, in `HMGET` order.
    static let hashFields = ["exchange", "symbol", "status"]
    /// Interval statuses from most to least current (the market level shows the first present).
    static let statusOrder = ["live", "backfilling", "stale", "replay"]

    let pair: MarketInterval
    /// The newest stream entry (id, event), nil when the stream is empty or absent.
    let last: (id: String, event: JSONObject)?
    /// XLEN of the stream (0 when absent).
    let bars: Int64
    /// `exchange`, `symbol`, `status` from the status hash (nil each when absent or empty).
    let exchange: String?
    let symbol: String?
    let status: String

    init(pair: MarketInterval, last: (id: String, event: JSONObject)?, bars: Int64, hash: [String?]) {
        self.pair = pair
        self.last = last
        self.bars = bars
        let field = { (i: Int) in i < hash.count ? hash[i] : nil }
        // The hash vanishes (PEXPIRE) when no gateway ingests the market: its bars are a replay's.
        if let status = field(2) {
            self.status = status
            exchange = field(0)
            symbol = field(1)
        } else {
            status = "replay"
            exchange = nil
            symbol = nil
        }
    }

    /// The newest bar's open time as RFC 3339, nil when there is none (or it is unreadable).
    var lastBarTime: String? {
        guard let value = last?.event["open_time"] else { return nil }
        // As a job reads it: the fast path for what `bedrock replay` and the ingest write, then any RFC 3339.
        let millis = value.intValue ?? value.stringValue.flatMap { JobData.utcTime($0) ?? KlineEvent.parseRFC3339($0) }
        return millis.map { RFC3339.format(milliseconds: $0) }
    }

    /// When the newest bar reached Redis, as RFC 3339: the millisecond part of its stream entry
    /// id (what the dashboard's age counts from; the sample exchange's bar times run ahead of the
    /// calendar).
    var receivedAt: String? {
        guard let id = last?.id, let millis = Int64(id.prefix { $0 != "-" }) else { return nil }
        return RFC3339.format(milliseconds: millis)
    }

    /// The interval's entry.
    var json: JSONValue {
        .object([
            "interval": .string(pair.interval), "topic": .string("klines:\(pair.market):\(pair.interval)"),
            "exchange": .optional(exchange), "symbol": .optional(symbol), "status": .string(status),
            "last_bar_time": .optional(lastBarTime), "received_at": .optional(receivedAt), "bars": .int(bars),
            "last_id": .optional(last?.id), "last_bar": last.map { .object($0.event) } ?? .null,
        ])
    }

    /// A market's entry: its exchange, symbol and most current status, and its intervals.
    static func marketEntry(_ market: String, _ intervals: [MarketListing]) -> JSONObject {
        let statuses = Set(intervals.map(\.status))
        let status = statusOrder.first(where: statuses.contains) ?? intervals.first?.status ?? "replay"
        return [
            "market": .string(market),
            "exchange": .optional(intervals.lazy.compactMap(\.exchange).first),
            "symbol": .optional(intervals.lazy.compactMap(\.symbol).first),
            "status": .string(status),
            "intervals": .array(intervals.map(\.json)),
        ]
    }
}
