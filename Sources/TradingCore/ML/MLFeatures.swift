/// The ML confidence model's feature columns (SPEC §11), in the order every model uses: the
/// order of `bedrock features` CSV columns after `time, market, signal_type, label`, of the
/// vectors `FeatureTracker` produces and of an XGBoost model's feature indices.
/// docs/ML_FEATURES.md gives each formula. A value that cannot be computed yet (warm-up, no stop,
/// no target) is NaN: XGBoost's missing value.
public enum MLFeatures {
    /// Column names, in order.
    public static let names: [String] = [
        "rule_score",  // the strategy's rule-engine score, 0–100
        "rsi_14",  // RSI(14) of closes, 0–100
        "atr_14_pct",  // ATR(14) / close
        "close_vs_sma_50",  // close / SMA(50) − 1
        "sma_50_slope_10",  // SMA(50) / SMA(50) ten bars earlier − 1
        "volume_ratio_20",  // volume / mean volume of the last 20 bars (this one included)
        "range_atr",  // (high − low) / ATR(14)
        "stop_distance_atr",  // |entry − stop| / ATR(14)
        "reward_risk",  // |target − entry| / |entry − stop|
        "hour_of_day",  // UTC hour of the bar's open time, 0–23
        "day_of_week",  // UTC weekday of the bar's open time, 0 = Monday … 6 = Sunday
        "side",  // 1 buy, 0 sell
        "return_1",  // close / previous close − 1
        "return_10",  // close / close ten bars earlier − 1
        "stop_entry",  // 1 for a stop entry, 0 for a market entry
    ]

    /// Number of columns.
    public static var count: Int { names.count }

    /// The column index of `name`, nil when it is not a feature.
    public static func index(of name: String) -> Int? { names.firstIndex(of: name) }
}
