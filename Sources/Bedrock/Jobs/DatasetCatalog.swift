import Foundation
import GatewayCore
import JSONCodec
import MarketDataCore
import Synchronization
import TradingCore

#if canImport(Glibc)
    import Glibc
#endif

/// `datasets.list`: the files of the datasets directory a backtest may name (exactly those
/// `DatasetDirectory.names()` accepts: the one rule for names, links and containment), each with
/// its size and what the backtest would read from it: `rows`, `start`/`end` (first and last bar
/// open times, RFC 3339), and `market`/`interval` when the file name or the bars tell them.
/// A file that would fail a backtest (unreadable, a malformed row) is listed with `error` (the
/// message the job would fail with) instead of failing the list.
///
/// Reading a file is the full parse a backtest does (`MarketData.load`), so it runs on the worker
/// pool, never on an event loop, and happens once per file version: summaries are cached by
/// (resolved path, size, modification time), at most `capacity` of them (least recently listed
/// dropped first). One call reads uncached files for at most `budget` seconds (always at least
/// one); files left over, and files another call is reading at that moment, are listed with
/// `"pending": true` and read by the next calls.
final class DatasetCatalog: Sendable {
    /// What one file version holds.
    struct Summary: Sendable {
        var rows: Int = 0
        var start: Int64?
        var end: Int64?
        var interval: String?
        /// Why a backtest could not load the file (worded per name: links to one file share it).
        var failure: Failure?
    }

    /// Why a file cannot be loaded.
    enum Failure: Sendable {
        case data(MarketDataError)
        case other

        /// The message a job naming the file as `name` fails with.
        func text(_ name: String) -> String {
            switch self {
            case .data(let error): return JobData.failureText(name, error)
            case .other: return "dataset \(name): cannot be loaded"
            }
        }
    }

    private struct Key: Hashable {
        let path: String
        let size: Int64
        let mtimeNanos: Int64
    }

    private struct State {
        var summaries: [Key: (summary: Summary, used: UInt64)] = [:]
        var tick: UInt64 = 0
        /// File versions some call is reading now: other calls list them `pending` meanwhile.
        var reading = Set<Key>()
    }

    /// The directory listed.
    let directory: DatasetDirectory
    /// Most summaries kept.
    let capacity: Int
    /// Seconds one call may spend reading uncached files.
    let budget: Double
    private let clock: any GatewayClock
    private let state = Mutex(State())

    init(directory: DatasetDirectory, capacity: Int = 512, budget: Double = 1, clock: any GatewayClock = SystemClock()) {
        self.directory = directory
        self.capacity = max(1, capacity)
        self.budget = budget
        self.clock = clock
    }

    /// Files read (parsed) so far: what the cache saves (tests).
    var parses: Int { parseCount.load(ordering: .relaxed) }
    private let parseCount = Atomic<Int>(0)

    /// A note for people rather than market data.
    static func isNote(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".txt") || lower.hasSuffix(".md")
    }

    /// `{"total","data":[{"name","size","modified_at","rows","start","end","market","interval"[,"error"|"pending"]}]}`,
    /// sorted by name. Notes for people (`*.txt`, `*.md`, e.g. the `README.txt` of
    /// `bedrock sample-data`) are not listed: no backtest reads them.
    func list() -> JSONValue {
        let started = clock.read().monotonic
        var readOne = false
        var data: [JSONValue] = []
        for (name, path) in directory.files() where !Self.isNote(name) {
            guard let key = Self.key(path) else { continue }
            var summary = cached(key)
            if summary == nil && (!readOne || clock.read().monotonic - started < budget) && claim(key) {
                summary = read(name: name, key: key)
                readOne = true
            }
            data.append(.object(Self.entry(name: name, key: key, summary)))
        }
        return .object(["total": .int(Int64(data.count)), "data": .array(data)])
    }

    /// True when no other call is reading this file version now (then this one does).
    private func claim(_ key: Key) -> Bool {
        state.withLock { $0.reading.insert(key).inserted }
    }

    private func cached(_ key: Key) -> Summary? {
        state.withLock { s in
            guard let hit = s.summaries[key] else { return nil }
            s.tick += 1
            s.summaries[key] = (hit.summary, s.tick)
            return hit.summary
        }
    }

    /// Parses the file as a backtest would and caches what it holds.
    private func read(name: String, key: Key) -> Summary {
        parseCount.add(1, ordering: .relaxed)
        var summary = Summary()
        do {
            let bars = try MarketData.load(path: key.path, name: name, followLinks: false)
            summary.rows = bars.count
            summary.start = bars.time.first
            summary.end = bars.time.last
            summary.interval = Self.interval(of: bars.time)
        } catch let error as MarketDataError {
            summary.failure = .data(error)
        } catch {
            summary.failure = .other
        }
        state.withLock { s in
            s.tick += 1
            // Drop older versions of the same file, then the least recently listed over capacity.
            s.summaries = s.summaries.filter { $0.key.path != key.path }
            if s.summaries.count >= capacity, let oldest = s.summaries.min(by: { $0.value.used < $1.value.used }) {
                s.summaries[oldest.key] = nil
            }
            s.summaries[key] = (summary, s.tick)
            s.reading.remove(key)
        }
        return summary
    }

    /// The cache key of the file at `path` (size and modification time from `stat`).
    private static func key(_ path: String) -> Key? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Key(
            path: path, size: Int64(info.st_size),
            mtimeNanos: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    private static func entry(name: String, key: Key, _ summary: Summary?) -> JSONObject {
        let guess = DatasetName(name)
        var out: JSONObject = [
            "name": .string(name), "size": .int(key.size),
            "modified_at": .string(RFC3339.format(milliseconds: key.mtimeNanos / 1_000_000)),
            "rows": summary.map { .int(Int64($0.rows)) } ?? .null,
            "start": .optional(summary?.start.map { RFC3339.format(milliseconds: $0) }),
            "end": .optional(summary?.end.map { RFC3339.format(milliseconds: $0) }),
            "market": .optional(guess.market),
            "interval": .optional(guess.interval ?? summary?.interval),
        ]
        if let failure = summary?.failure { out["error"] = .string(failure.text(name)) }
        if summary == nil { out["pending"] = .bool(true) }
        return out
    }

    /// The interval whose length is the smallest step between consecutive bars, nil when none fits.
    static func interval(of times: [Int64]) -> String? {
        guard times.count > 1 else { return nil }
        var step = Int64.max
        for i in 1..<times.count { step = min(step, times[i] - times[i - 1]) }
        return KlineInterval.allCases.first { $0.fixedMillis == step }?.rawValue
    }
}
