import Foundation

/// A deterministic generator of a **synthetic** hourly market (not real prices), used for the
/// sample data of `make run`, demos and tests. The model is documented in `docs/SAMPLE_DATA.md`.
///
/// Per bar t (all randomness from one `SplitMix64` seeded with `seed`, so the same preset, bar
/// count and seed give the same series run after run):
/// 1. **Regime** (Markov chain): trending up, trending down or ranging; each bar the regime ends
///    with probability 1 / `meanRegimeBars` and one of the other two starts. Trends add a drift of
///    ±`trendDrift` × σ̄ per bar; a range pulls the log price back toward its level at the start of
///    the range (Ornstein–Uhlenbeck, strength `rangeReversion`).
/// 2. **Volatility clustering**: GARCH(1,1) variance `σ²_t = ω + α ε²_{t-1} + β σ²_{t-1}` with
///    long-run σ̄ = `barVolatility`, so calm and wild stretches alternate.
/// 3. **Close**: `close_t = close_{t-1} × exp(μ_t + ε_t)`, `ε_t = σ_t z_t`, z standard normal.
/// 4. **Open**: the previous close plus a tiny tick of noise; with probability `gapProbability` an
///    opening gap instead: the bar opens below the previous low (or above the previous high) by
///    0.4–1.4 σ, which is what the `oops` strategy trades; in 60 % of gaps the bar then trades back
///    toward that level and closes 30–95 % of the way to it; gap bars carry 1.5–2.5× volume.
///    (Crypto trades around the clock, so real hourly gaps are rarer; they are added on purpose.)
/// 5. **High/low**: wicks beyond the body of |N(0, 0.6 σ_t)| each side.
/// 6. **Volume**: `baseVolume` × (σ_t / σ̄) × (1 + 0.5 |z_t|) × hour-of-day seasonality ×
///    lognormal noise (× the gap boost), so volume rises with volatility.
/// Prices are rounded to `tickSize`, volumes to 4 decimals, and OHLC kept consistent after rounding.
public enum SyntheticMarket {
    /// The knobs of one synthetic market.
    public struct Preset: Sendable, Equatable {
        /// Market name, e.g. `BTCUSDT`.
        public var market: String
        /// Close of the bar before the first one (the first open is near it).
        public var startPrice: Double
        /// Open time of the first bar, ms since epoch (UTC).
        public var startTime: Int64
        /// Bar length in ms (one hour by default).
        public var intervalMillis: Int64
        /// Long-run per-bar volatility σ̄ of log returns (0.006 = 0.6 % per hour).
        public var barVolatility: Double
        /// GARCH reaction to the last shock (α).
        public var garchAlpha: Double
        /// GARCH persistence (β); α + β < 1.
        public var garchBeta: Double
        /// Mean regime length in bars.
        public var meanRegimeBars: Double
        /// Trend drift per bar, as a fraction of σ̄.
        public var trendDrift: Double
        /// Mean reversion per bar of the log price toward the range level.
        public var rangeReversion: Double
        /// Probability that a bar opens with a gap beyond the previous bar's range.
        public var gapProbability: Double
        /// Average volume per bar (base asset).
        public var baseVolume: Double
        /// Price rounding step.
        public var tickSize: Double

        /// A preset; defaults describe a liquid crypto pair on 1h bars.
        public init(
            market: String, startPrice: Double, startTime: Int64 = 1_704_067_200_000,
            intervalMillis: Int64 = 3_600_000, barVolatility: Double = 0.006,
            garchAlpha: Double = 0.08, garchBeta: Double = 0.90, meanRegimeBars: Double = 240,
            trendDrift: Double = 0.06, rangeReversion: Double = 0.02, gapProbability: Double = 0.015,
            baseVolume: Double = 1_000, tickSize: Double = 0.01
        ) {
            self.market = market; self.startPrice = startPrice; self.startTime = startTime
            self.intervalMillis = intervalMillis; self.barVolatility = barVolatility
            self.garchAlpha = garchAlpha; self.garchBeta = garchBeta; self.meanRegimeBars = meanRegimeBars
            self.trendDrift = trendDrift; self.rangeReversion = rangeReversion
            self.gapProbability = gapProbability; self.baseVolume = baseVolume; self.tickSize = tickSize
        }

        /// BTC/USDT-like: starts at 30,000, σ̄ 0.6 % per hour, ~1,200 BTC per hour, from 2024-01-01.
        public static let btcusdt = Preset(
            market: "BTCUSDT", startPrice: 30_000, barVolatility: 0.006,
            baseVolume: 1_200)
        /// ETH/USDT-like: starts at 2,000, σ̄ 0.8 % per hour, ~15,000 ETH per hour, from 2024-01-01.
        public static let ethusdt = Preset(
            market: "ETHUSDT", startPrice: 2_000, barVolatility: 0.008,
            baseVolume: 15_000)
        /// The built-in presets, in the order `bedrock sample-data` writes them.
        public static let all: [Preset] = [.btcusdt, .ethusdt]
    }

    /// A market regime of the generator.
    public enum Regime: String, Sendable, CaseIterable {
        /// Positive drift.
        case trendingUp = "up"
        /// Negative drift.
        case trendingDown = "down"
        /// Mean-reverting around a level.
        case ranging = "range"
    }

    /// Generates `bars` hourly bars for `preset` from `seed` (deterministic).
    public static func generate(_ preset: Preset, bars: Int, seed: UInt64) -> BarSeries {
        var generator = Generator(preset: preset, seed: seed)
        var series = BarSeries()
        series.reserveCapacity(Swift.max(bars, 0))
        for _ in 0..<Swift.max(bars, 0) { series.append(generator.next()) }
        return series
    }

    /// The series as CSV in the SPEC §9 header layout: `time,open,high,low,close,volume`, times
    /// RFC 3339 UTC, one row per bar, `\n` line ends. `MarketData.load` reads it back.
    public static func csv(_ series: BarSeries) -> String {
        var out = "time,open,high,low,close,volume\n"
        out.reserveCapacity(series.count * 64)
        for i in 0..<series.count {
            out += RFC3339.format(milliseconds: series.time[i])
            for value in [series.open[i], series.high[i], series.low[i], series.close[i], series.volume[i]] {
                out += ","
                out += decimal(value)
            }
            out += "\n"
        }
        return out
    }

    /// Shortest decimal text of a finite value (no exponent for the magnitudes used here).
    static func decimal(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.12g", value)
    }
}

/// The state machine behind `SyntheticMarket.generate` (one bar per `next()`).
public struct SyntheticMarketGenerator: Sendable {
    private let preset: SyntheticMarket.Preset
    private var rng: SplitMix64
    private var regime: SyntheticMarket.Regime = .ranging
    private var rangeAnchor: Double
    private var variance: Double
    private var lastShock = 0.0
    private var previous: Bar
    private var time: Int64
    private let omega: Double

    /// A generator of `preset`'s bars from `seed`; the first `next()` is the bar at `startTime`.
    public init(preset: SyntheticMarket.Preset, seed: UInt64) {
        self.preset = preset
        rng = SplitMix64(seed: seed)
        let p = preset.startPrice
        previous = Bar(time: preset.startTime - preset.intervalMillis, open: p, high: p, low: p, close: p, volume: 0)
        time = preset.startTime
        rangeAnchor = log(p)
        let longRun = preset.barVolatility * preset.barVolatility
        variance = longRun
        omega = longRun * Swift.max(1 - preset.garchAlpha - preset.garchBeta, 0.001)
        regime = SyntheticMarket.Regime.allCases[Int(rng.nextInt(in: 0, 2))]
    }

    /// The next bar.
    public mutating func next() -> Bar {
        let p = preset
        let sigmaBar = p.barVolatility
        // 1. Regime switch.
        if rng.nextUnit() < 1 / Swift.max(p.meanRegimeBars, 1) {
            let others = SyntheticMarket.Regime.allCases.filter { $0 != regime }
            regime = others[Int(rng.nextInt(in: 0, Int64(others.count - 1)))]
            if regime == .ranging { rangeAnchor = log(previous.close) }
        }
        // 2. GARCH(1,1) variance from the last shock.
        variance = omega + p.garchAlpha * lastShock * lastShock + p.garchBeta * variance
        let sigma = variance.squareRoot()
        // 3. Close.
        let drift: Double
        switch regime {
        case .trendingUp: drift = p.trendDrift * sigmaBar
        case .trendingDown: drift = -p.trendDrift * sigmaBar
        case .ranging: drift = -p.rangeReversion * (log(previous.close) - rangeAnchor)
        }
        let z = normal()
        var close = previous.close * exp(drift + sigma * z)
        // 4. Open: near the previous close, or a gap beyond the previous bar's range.
        var open = previous.close * exp(0.02 * sigma * normal())
        var volumeBoost = 1.0
        if rng.nextUnit() < p.gapProbability {
            let depth = (0.4 + rng.nextUnit()) * sigma
            let level = rng.nextUnit() < 0.5 ? previous.low : previous.high
            open = level == previous.low ? level * exp(-depth) : level * exp(depth)
            if rng.nextUnit() < 0.6 {
                // The "oops": price trades back toward the level and closes short of it.
                close = open + (0.3 + 0.65 * rng.nextUnit()) * (level - open)
            }
            volumeBoost = 1.5 + rng.nextUnit()  // gaps come with news and volume
        }
        // The shock the GARCH recursion sees is the return that actually happened.
        lastShock = log(close / previous.close) - drift
        // 5. Wicks.
        var high = Swift.max(open, close) * exp(abs(normal()) * 0.6 * sigma)
        var low = Swift.min(open, close) * exp(-abs(normal()) * 0.6 * sigma)
        // 6. Volume: rises with volatility and with the size of the move; daily seasonality.
        let hour = Double(((time / 3_600_000) % 24 + 24) % 24)
        let season = 1 + 0.3 * sin((hour - 8) / 24 * 2 * Double.pi)
        let noise = exp(0.25 * normal() - 0.03125)
        var volume = p.baseVolume * (sigma / sigmaBar) * (1 + 0.5 * abs(z)) / 1.4 * season * noise * volumeBoost

        // Round and keep the bar consistent.
        open = round(open); let roundedClose = round(close)
        high = Swift.max(round(high), open, roundedClose)
        low = Swift.min(round(low), open, roundedClose)
        volume = Swift.max((volume * 10_000).rounded() / 10_000, 0.0001)
        let bar = Bar(time: time, open: open, high: high, low: low, close: roundedClose, volume: volume)
        previous = bar
        time += p.intervalMillis
        return bar
    }

    /// Rounds a price to the preset's tick (never below one tick).
    private func round(_ price: Double) -> Double {
        // Divide by the whole-number scale so the result is the double nearest the decimal text
        // (the CSV round-trips exactly).
        let scale = (1 / preset.tickSize).rounded()
        return Swift.max((price * scale).rounded() / scale, 1 / scale)
    }

    /// A standard normal draw (Box–Muller; one of the pair is discarded to keep the state simple).
    private mutating func normal() -> Double {
        let u1 = Swift.max(rng.nextUnit(), 0x1.0p-53)
        let u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

extension SyntheticMarket {
    public typealias Generator = SyntheticMarketGenerator
}
