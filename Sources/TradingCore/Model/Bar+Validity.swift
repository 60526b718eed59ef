extension Bar {
    /// Why these prices and volume cannot be a bar, or nil when they can. The rule, the same for
    /// every source of bars (CSV files, datasets, replays, klines streams): every price finite and
    /// greater than 0, low ≤ min(open, close) ≤ max(open, close) ≤ high, volume finite and ≥ 0.
    /// The answer names the rule that failed, never the numbers.
    public static func problem(open: Double, high: Double, low: Double, close: Double, volume: Double) -> String? {
        // Checked one by one, not through an array: the CSV loader calls this for every row.
        if !(open.isFinite && open > 0) { return notPositive("open") }
        if !(high.isFinite && high > 0) { return notPositive("high") }
        if !(low.isFinite && low > 0) { return notPositive("low") }
        if !(close.isFinite && close > 0) { return notPositive("close") }
        guard volume.isFinite, volume >= 0 else { return "volume must be a finite number ≥ 0" }
        guard low <= Swift.min(open, close), high >= Swift.max(open, close) else {
            return "inconsistent bar: need low ≤ open, close ≤ high"
        }
        return nil
    }

    private static func notPositive(_ name: String) -> String { "\(name) must be a finite price greater than 0" }
}
