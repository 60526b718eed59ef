import DequeModule
import MarketDataCore
import TradingCore

/// The built-in `sample` exchange for one market (SPEC §10): the deterministic, clearly synthetic
/// series of `bedrock sample-data` (the same presets and seeds: BTCUSDT seed 1, ETHUSDT seed 2,
/// from 2024-01-01), produced in-process on a compressed clock — one bar closes every
/// `barSeconds` of real time, whatever the interval. Bar times are on that clock, so they run
/// ahead of the calendar (`interval / barSeconds` times faster); nothing here touches a network.
///
/// `open` anchors the clock where the market's stream left off (a restart continues the series
/// without a hole; an empty stream gets `backfillBars` of history). `history` answers the REST
/// side of the ingest, `liveBars` the live side. Memory is bounded: the bars already generated
/// are kept in a window of `windowBars`; an older page regenerates from the start of the series.
struct SampleExchange {
    /// The interval.
    let interval: KlineInterval
    /// Real seconds between two bars.
    let barSeconds: Double
    private let intervalMillis: Int64
    private let preset: SyntheticMarket.Preset
    private let seed: UInt64
    private let windowBars: Int
    private let symbol: String

    private var generator: SyntheticMarketGenerator
    /// Open time of the bar `generator.next()` makes next.
    private var nextGenerated: Int64
    private var window: Deque<Bar> = []
    private var anchorWall: Int64 = 0
    private var anchorMonotonic: Double = 0
    /// Open time of the last bar handed out live.
    private var delivered: Int64 = 0

    /// A sample market for `symbol` on `interval` (a fixed-length one), one bar per `barSeconds`.
    init(symbol: MarketSymbol, interval: KlineInterval, barSeconds: Double, windowBars: Int) {
        let millis = interval.fixedMillis ?? 3_600_000
        var preset: SyntheticMarket.Preset
        switch symbol.id {
        case "BTCUSDT": (preset, seed) = (.btcusdt, 1)
        case "ETHUSDT": (preset, seed) = (.ethusdt, 2)
        default:
            preset = SyntheticMarket.Preset(market: symbol.id, startPrice: 100)
            seed = Self.stableSeed(symbol.id)
        }
        preset.intervalMillis = millis
        preset.startTime = interval.openTime(containing: preset.startTime)
        self.preset = preset
        self.interval = interval
        self.intervalMillis = millis
        self.barSeconds = barSeconds
        self.windowBars = max(16, windowBars)
        self.symbol = symbol.id
        generator = SyntheticMarketGenerator(preset: preset, seed: seed)
        nextGenerated = preset.startTime
    }

    /// Anchors the clock at `monotonic`: the bar after the stream's last one (`lastOpenTime`) is
    /// forming, or, for an empty stream, `backfillBars` bars have closed since the series began.
    mutating func open(lastOpenTime: Int64?, backfillBars: Int, monotonic: Double) {
        let fresh = preset.startTime + Int64(max(0, backfillBars)) * intervalMillis
        let forming = max(fresh, lastOpenTime.map { interval.openTime(containing: $0) + intervalMillis } ?? fresh)
        anchorWall = forming
        anchorMonotonic = monotonic
        delivered = forming - intervalMillis
    }

    /// The sample's wall clock (ms) at real monotonic time `monotonic`.
    func wallMillis(monotonic: Double) -> Int64 {
        anchorWall + Int64(((monotonic - anchorMonotonic) / barSeconds * Double(intervalMillis)).rounded(.down))
    }

    /// The closed bars opening in [startTime, endTime] at `monotonic`, oldest first, at most `limit`.
    mutating func history(startTime: Int64, endTime: Int64, limit: Int, monotonic: Double) -> [ExchangeKline] {
        let lastClosed = interval.openTime(containing: wallMillis(monotonic: monotonic)) - intervalMillis
        let from = max(startTime, preset.startTime)
        let through = min(endTime, lastClosed)
        guard from <= through, limit > 0 else { return [] }
        return Array(bars(from: from, through: through).prefix(limit)).map(kline)
    }

    /// The bars that closed since the last call (at most `limit`, oldest first).
    mutating func liveBars(monotonic: Double, limit: Int = 1000) -> [ExchangeKline] {
        let lastClosed = interval.openTime(containing: wallMillis(monotonic: monotonic)) - intervalMillis
        guard lastClosed > delivered else { return [] }
        let from = max(delivered + intervalMillis, lastClosed - Int64(limit - 1) * intervalMillis)
        let out = bars(from: from, through: lastClosed).map(kline)
        delivered = lastClosed
        return out
    }

    /// Real monotonic time at which the next live bar closes.
    func nextCloseAt() -> Double {
        let closeWall = delivered + 2 * intervalMillis
        return anchorMonotonic + Double(closeWall - anchorWall) / Double(intervalMillis) * barSeconds
    }

    private func kline(_ bar: Bar) -> ExchangeKline {
        ExchangeKline(
            symbol: symbol, interval: interval, openTime: bar.time, open: bar.open, high: bar.high, low: bar.low,
            close: bar.close, volume: bar.volume, closed: true)
    }

    /// Bars opening in [from, through] (at most the last `windowBars` of them). The window holds
    /// consecutive bars ending just before `nextGenerated`; a range starting before it generates
    /// again from the start of the series.
    private mutating func bars(from: Int64, through: Int64) -> [Bar] {
        if from < (window.first?.time ?? nextGenerated) { restart() }
        let keepFrom = through - Int64(windowBars - 1) * intervalMillis
        if keepFrom > nextGenerated { window.removeAll() }  // the bars in between are skipped
        while nextGenerated <= through {
            let bar = generator.next()
            nextGenerated += intervalMillis
            guard bar.time >= keepFrom else { continue }
            window.append(bar)
            if window.count > windowBars { window.removeFirst() }
        }
        return window.filter { $0.time >= from && $0.time <= through }
    }

    private mutating func restart() {
        generator = SyntheticMarketGenerator(preset: preset, seed: seed)
        nextGenerated = preset.startTime
        window.removeAll()
    }

    /// FNV-1a of the market id: a seed that is the same on every run and machine.
    private static func stableSeed(_ id: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in id.utf8 {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01b3
        }
        return h
    }
}
