import Foundation
import GatewayCore
import RedisClient
import TradingCore

/// Publishes bars of one market and interval as `kline.closed` events to their stream
/// (`<prefix>stream:klines:{MARKET}:{INTERVAL}`, SPEC §7), paced in bars per second, resumable.
///
/// Threading: owns nothing but uses `connection` from the calling thread only (see
/// `RedisConnection`).
public struct KlineReplay {
    /// What the stream's last entry says about earlier publishing.
    public enum LastEntry: Equatable, Sendable {
        /// The stream is empty or does not exist.
        case none
        /// The last entry is a `kline.closed` event for the bar opening at `openTime` (ms).
        case bar(id: String, openTime: Int64)
        /// The last entry is something else (not a kline event, or no readable `open_time`).
        case unreadable(id: String)
    }

    /// The connection to publish on.
    public let connection: RedisConnection
    /// Market, e.g. `BTCUSDT` (already validated by the caller).
    public let market: String
    /// Kline interval, e.g. `1h` (already validated by the caller).
    public let interval: String
    /// The stream key.
    public let streamKey: String
    /// Approximate stream cap (`MAXLEN ~`); nil appends without trimming.
    public let maxLength: Int?
    /// Most XADDs sent in one pipelined batch.
    public var batchSize = 500
    /// Seconds a consumer group of the stream may read nothing before the replay stops waiting
    /// for it (see `readerRoom`).
    public var stallSeconds = 5.0

    /// A replay of `market`/`interval` on `connection` with the configured key `prefix`.
    public init(connection: RedisConnection, market: String, interval: String, prefix: String, maxLength: Int?) {
        self.connection = connection
        self.market = market
        self.interval = interval
        self.maxLength = maxLength
        streamKey = StreamKeys.key(prefix: prefix, topic: "klines:\(market):\(interval)")
    }

    /// Reads the stream's last entry (`XREVRANGE key + - COUNT 1`).
    public func lastEntry() throws(RedisError) -> LastEntry {
        let reply = try connection.command(["XREVRANGE", streamKey, "+", "-", "COUNT", "1"]).checked()
        guard let entries = reply.array else { throw .unexpectedReply("XREVRANGE answered \(reply)") }
        guard let entry = entries.first?.array, entry.count == 2, let id = entry[0].string,
            let fields = entry[1].array
        else { return .none }
        var index = 0
        while index + 1 < fields.count {
            if fields[index].string == "event", let json = fields[index + 1].string,
                let openTime = KlineEvent.openTime(ofEvent: json)
            {
                return .bar(id: id, openTime: openTime)
            }
            index += 2
        }
        return .unreadable(id: id)
    }

    /// The index of the first bar of `series` opening after `openTime` (`series.count` when none).
    public static func firstIndex(after openTime: Int64, in series: BarSeries) -> Int {
        // Binary search: times are strictly increasing.
        var lo = 0, hi = series.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if series.time[mid] <= openTime { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Publishes `series[start...]`. `speed` is bars per second (0: as fast as possible, in
    /// pipelined batches of `batchSize`); bar k of the run is due `k / speed` seconds after the
    /// start, and every bar already due goes out in one pipelined batch. With `maxLength`, a batch
    /// also waits until every consumer group of the stream (the live engine) is close enough
    /// that the trim cannot remove a bar it has not read (`readerRoom`): at any speed the replay
    /// never outruns the engine into a hole. `progress` is called with the number published so
    /// far after each batch. `backfill` flags every event as a history bar (`"backfill": true`:
    /// the live engine learns from it without trading, SPEC §10). Returns the number published.
    @discardableResult
    public func publish(
        _ series: BarSeries, from start: Int, speed: Double, backfill: Bool = false,
        progress: (Int) -> Void = { _ in }
    ) throws(RedisError) -> Int {
        let total = Swift.max(series.count - start, 0)
        guard total > 0 else { return 0 }
        let began = Date()
        var sent = 0
        var readers = ReaderWatch()
        while sent < total {
            var due = total
            if speed > 0 {
                let elapsed = Date().timeIntervalSince(began)
                // Clamped in Double first: a huge speed must not overflow Int.
                due = Int(Swift.min(Double(total), (elapsed * speed).rounded(.down) + 1))
                if due <= sent {
                    let wait = Double(sent) / speed - elapsed
                    if wait > 0 { Thread.sleep(forTimeInterval: Swift.min(wait, 0.5)) }
                    continue
                }
            }
            var end = Swift.min(due, sent + Swift.max(batchSize, 1))
            if let maxLength {
                let room = try readerRoom(&readers, maxLength: maxLength)
                if room <= 0 {
                    Thread.sleep(forTimeInterval: 0.005)  // a reader is catching up
                    continue
                }
                end = sent + Swift.min(end - sent, room)
            }
            try send(series, start + sent..<start + end, backfill: backfill)
            sent = end
            progress(sent)
        }
        return sent
    }

    /// One pipelined batch of XADDs for the bars at `indices` (flagged history bars when `backfill`).
    private func send(_ series: BarSeries, _ indices: Range<Int>, backfill: Bool) throws(RedisError) {
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        var commands: [[String]] = []
        commands.reserveCapacity(indices.count)
        for i in indices {
            var args = ["XADD", streamKey]
            if let maxLength { args += ["MAXLEN", "~", String(maxLength)] }
            args += [
                "*", "event", KlineEvent.encode(series[i], market: market, interval: interval, now: now, backfill: backfill),
            ]
            commands.append(args)
        }
        for reply in try connection.pipeline(commands) { _ = try reply.checked() }
    }
}
