import TradingCore

/// A chart's value axis: round marks (1, 2 or 5 × 10ⁿ apart) covering a range. Pure.
public enum ValueAxis {
    /// At most about `count` round marks spanning `low...high` (widened to include them), and
    /// how many decimals their labels need.
    public static func ticks(low: Double, high: Double, count: Int) -> (values: [Double], decimals: Int) {
        guard low.isFinite, high.isFinite, count >= 2 else { return ([], 0) }
        var (lo, hi) = (low, high)
        if hi - lo < 1e-12 {
            let pad = max(abs(lo) * 0.01, 1)
            lo -= pad
            hi += pad
        }
        let raw = (hi - lo) / Double(count - 1)
        var magnitude = 1.0
        while magnitude * 10 <= raw { magnitude *= 10 }
        while magnitude > raw { magnitude /= 10 }
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = (lo / step).rounded(.down)
        let last = (hi / step).rounded(.up)
        let values = stride(from: first, through: last, by: 1).map { $0 * step }
        var decimals = 0
        var unit = 1.0
        while unit > step * 1.000001 && decimals < 10 {
            unit /= 10
            decimals += 1
        }
        return (values, decimals)
    }

    /// A mark's label with `decimals` decimals (`-0` prints as `0`).
    public static func label(_ v: Double, decimals: Int) -> String {
        let text = TextFormat.fixed(v, decimals)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}
