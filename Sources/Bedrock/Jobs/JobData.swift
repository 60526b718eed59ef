import Foundation
import JSONCodec
import RedisClient
import TradingCore

#if canImport(Glibc)
    import Glibc
#endif

/// Loading a job's bars: from a klines stream in Redis, or from a dataset file.
enum JobData {
    /// Why the bars could not be loaded (the job FAILS with this message).
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The klines stream key of a market and interval.
    static func streamKey(prefix: String, market: String, interval: String) -> String {
        prefix + "stream:klines:" + market + ":" + interval
    }

    /// The bars of `source`, in time order, one per open time. `cancelled` is polled between
    /// chunks so a cancel stops a long load too.
    static func load(
        _ source: JobDataSource, prefix: String, nice: Int32 = 0, on c: @autoclosure () throws -> RedisConnection,
        cancelled: () -> Bool
    ) throws -> BarSeries {
        switch source {
        case let .dataset(name, path, start, end):
            let series = try parseAbandonable(path: path, name: name, nice: nice, cancelled: cancelled)
            return (start == nil && end == nil) ? series : series.between(start: start, end: end)
        case let .market(market, interval, start, end):
            return try stream(
                key: streamKey(prefix: prefix, market: market, interval: interval),
                start: start, end: end, on: try c(), cancelled: cancelled)
        }
    }

    /// Parses a dataset file on a helper thread while the job's thread polls `cancelled` every
    /// 10 ms: a cancel answers at once and the parse result is thrown away when it arrives
    /// (`MarketData.load` cannot be interrupted; the wasted work is one file parse).
    /// The helper thread runs at `nice` (the job threads' nice value), like the job itself.
    /// `path` was resolved inside the datasets directory when the job was accepted; a symbolic
    /// link put in its place since then is refused, not followed.
    static func parseAbandonable(path: String, name: String, nice: Int32 = 0, cancelled: () -> Bool) throws -> BarSeries {
        final class Box: @unchecked Sendable {
            // Sound: written once by the helper before `done.signal()`, read after `done.wait`.
            var result: Result<BarSeries, Error>?
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let helper = Thread {
            JobData.lowerPriority(nice)
            box.result = Result { try MarketData.load(path: path, name: name, followLinks: false) }
            done.signal()
        }
        helper.name = "bedrock-job-load"
        helper.start()
        while done.wait(timeout: .now() + .milliseconds(10)) == .timedOut {
            if cancelled() { return BarSeries() }
        }
        switch box.result! {
        case .success(let series): return series
        case .failure(let error as MarketDataError): throw Failure(description: failureText(name, error))
        case .failure: throw Failure(description: "dataset \(name): cannot be loaded")
        }
    }

    /// `dataset NAME: line N: what is wrong` (or without the line): the dataset's name as the
    /// client gave it, never the server's path and never the file's content.
    static func failureText(_ name: String, _ error: MarketDataError) -> String {
        "dataset \(name): " + (error.line.map { "line \($0): " } ?? "") + error.reason
    }

    /// Sets the calling thread's nice value (Linux nice values are per thread: who = 0 is the
    /// calling thread), so job work yields the CPU to the event loop and the Redis bridge.
    static func lowerPriority(_ nice: Int32) {
        guard nice != 0 else { return }
        #if canImport(Glibc)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
        #endif
    }

    /// Reads every `kline.closed` event of `key` (XRANGE in chunks), keeps bars with open time in
    /// `[start, end]`, sorts them and keeps the last event of each open time (a replay may
    /// publish a bar twice). Other events and malformed ones are skipped.
    static func stream(
        key: String, start: Int64?, end: Int64?, on c: RedisConnection,
        cancelled: () -> Bool
    ) throws -> BarSeries {
        var bars: [Bar] = []
        var from = "-"
        let chunk = 5000
        while true {
            if cancelled() { return BarSeries() }
            let reply = try c.command(["XRANGE", key, from, "+", "COUNT", String(chunk)]).checked()
            let entries = reply.array ?? []
            for entry in entries {
                guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
                from = "(" + id
                guard let fields = parts[1].array else { continue }
                var i = 0
                while i + 1 < fields.count {
                    if fields[i].string == "event", case .bulk(let bytes) = fields[i + 1],
                        let bar = bar(fromEvent: bytes), (start.map { bar.time >= $0 } ?? true),
                        (end.map { bar.time <= $0 } ?? true)
                    {
                        bars.append(bar)
                    }
                    i += 2
                }
            }
            if entries.count < chunk { break }
        }
        bars.sort { $0.time < $1.time }
        var unique: [Bar] = []
        unique.reserveCapacity(bars.count)
        for b in bars {
            if let last = unique.last, last.time == b.time { unique[unique.count - 1] = b } else { unique.append(b) }
        }
        return BarSeries(bars: unique)
    }

    /// The bar of one `kline.closed` event (numbers as JSON numbers or numeric strings); nil when
    /// it is not one or breaks the bar rule (`Bar.problem`: positive prices, low ≤ high, ...).
    static func bar(fromEvent bytes: [UInt8]) -> Bar? {
        guard let event = try? JSONCodec.parse(bytes), event["event_type"]?.stringValue == KlineEvent.eventType,
            let openTime = event["open_time"]
        else { return nil }
        let time: Int64
        if let ms = openTime.intValue {
            time = ms
        } else if let t = openTime.stringValue.flatMap({ utcTime($0) ?? KlineEvent.parseRFC3339($0) }) {
            time = t
        } else {
            return nil
        }
        func num(_ k: String) -> Double? {
            guard let v = event[k] else { return nil }
            return v.doubleValue ?? v.stringValue.flatMap { Double($0) }
        }
        guard let o = num("open"), let h = num("high"), let l = num("low"), let cl = num("close") else { return nil }
        let volume = num("volume") ?? 0
        guard Bar.problem(open: o, high: h, low: l, close: cl, volume: volume) == nil else { return nil }
        return Bar(time: time, open: o, high: h, low: l, close: cl, volume: volume)
    }

    /// Fast path for `YYYY-MM-DDTHH:MM:SS[.fff]Z` (what `bedrock replay` writes), in ms.
    static func utcTime(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count >= 20, u[10] == UInt8(ascii: "T"), u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
            u[u.count - 1] == UInt8(ascii: "Z"), let day = JobParams.day(String(decoding: u[0..<10], as: UTF8.self))
        else { return nil }
        func number(_ r: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in r {
                guard u[i] >= 48, u[i] <= 57 else { return nil }
                v = v * 10 + Int64(u[i] - 48)
            }
            return v
        }
        guard let h = number(11..<13), let m = number(14..<16), let s = number(17..<19), h < 24, m < 60, s < 61 else {
            return nil
        }
        var ms: Int64 = 0
        if u.count > 20 {
            guard u[19] == UInt8(ascii: "."), u.count > 21, let f = number(20..<(u.count - 1)) else { return nil }
            let digits = u.count - 21
            ms = digits >= 3 ? f / Int64(pow(10.0, Double(digits - 3))) : f * Int64(pow(10.0, Double(3 - digits)))
        } else if u.count != 20 {
            return nil
        }
        return day + ((h * 60 + m) * 60 + s) * 1000 + ms
    }

    /// Whether a klines stream exists for the market and interval.
    static func hasBars(prefix: String, market: String, interval: String, on c: RedisConnection) throws -> Bool {
        try c.command(["EXISTS", streamKey(prefix: prefix, market: market, interval: interval)]).checked().integer == 1
    }

    /// `MARKET INTERVAL` of every klines stream (at most 50), for error messages.
    static func markets(prefix: String, on c: RedisConnection) throws -> [String] {
        let head = prefix + "stream:klines:"
        var cursor = "0"
        var out: [String] = []
        repeat {
            let reply = try c.command(["SCAN", cursor, "MATCH", head + "*", "COUNT", "500"]).checked()
            guard let parts = reply.array, parts.count == 2 else { break }
            cursor = parts[0].string ?? "0"
            for k in parts[1].array ?? [] {
                guard let key = k.string, key.hasPrefix(head) else { continue }
                let rest = key.dropFirst(head.count)
                if let colon = rest.lastIndex(of: ":") {
                    out.append("\(rest[..<colon]) \(rest[rest.index(after: colon)...])")
                }
            }
        } while cursor != "0" && out.count < 50
        return out.sorted()
    }
}
