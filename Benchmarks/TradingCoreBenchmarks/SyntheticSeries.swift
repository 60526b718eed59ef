import Foundation
import TradingCore

/// A seeded random walk with volatility regimes: hourly bars from 2017-01-01, the per-bar
/// volatility switching every 2 000–20 000 bars between 0.2 %, 0.6 % and 1.5 %, a slowly
/// changing drift, and high/low spread around the body by a fraction of the volatility. Same seed,
/// same bars on every run and machine.
func syntheticSeries(bars n: Int, seed: UInt64 = 20_240_101) -> BarSeries {
    var rng = SplitMix64(seed: seed)
    var time = [Int64](), open = [Double](), high = [Double](), low = [Double](),
        close = [Double](), volume = [Double]()
    time.reserveCapacity(n)
    open.reserveCapacity(n); high.reserveCapacity(n); low.reserveCapacity(n)
    close.reserveCapacity(n); volume.reserveCapacity(n)
    func gaussian() -> Double {  // Box–Muller
        let u1 = max(rng.nextUnit(), 1e-300), u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
    let vols = [0.002, 0.006, 0.015]
    var vol = vols[0], drift = 0.0, regimeLeft = 0
    var price = 10_000.0
    let t0: Int64 = 1_483_228_800_000, hour: Int64 = 3_600_000
    for i in 0..<n {
        if regimeLeft == 0 {
            vol = vols[Int(rng.nextInt(in: 0, 2))]
            drift = (rng.nextUnit() - 0.5) * vol * 0.2
            regimeLeft = Int(rng.nextInt(in: 2_000, 20_000))
        }
        regimeLeft -= 1
        let o = price
        let c = o * exp(drift + vol * gaussian())
        let h = max(o, c) * (1 + abs(gaussian()) * vol * 0.5)
        let l = min(o, c) * (1 - abs(gaussian()) * vol * 0.5)
        time.append(t0 + Int64(i) * hour)
        open.append(o); high.append(h); low.append(l); close.append(c)
        volume.append(100 + 1_000 * rng.nextUnit())
        price = c
    }
    return BarSeries(time: time, open: open, high: high, low: low, close: close, volume: volume)
}

/// Writes the first `rows` bars of `series` as a CSV with ISO 8601 times and 4 decimals.
func writeCSV(_ series: BarSeries, rows: Int, to path: String) throws {
    var out = "time,open,high,low,close,volume\n"
    out.reserveCapacity(rows * 90)
    for i in 0..<min(rows, series.count) {
        let b = series[i]
        out += RFC3339.format(milliseconds: b.time)
        for v in [b.open, b.high, b.low, b.close, b.volume] {
            out += ","
            out += TextFormat.fixed(v, 4)
        }
        out += "\n"
    }
    try out.write(toFile: path, atomically: false, encoding: .utf8)
}
