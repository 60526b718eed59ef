/// Maps a rule score to a suggested position weight (SPEC §8), linear inside each band:
///
/// | score | weight |
/// |---|---|
/// | 85 ... 100 | 0.8 ... 1.0 |
/// | 70 ..< 85 | 0.5 ..< 0.7 |
/// | 0 ..< 70 | 0.3 ..< 0.5 |
///
/// Scores outside 0...100 are clamped first. Note the steps at 70 (0.5 after ≈0.5 below) and at 85
/// (0.8 after ≈0.7 below).
public enum WeightBands {
    /// The suggested position weight for `score`.
    public static func weight(forScore score: Double) -> Double {
        let s = score.isNaN ? 0 : Swift.min(Swift.max(score, 0), 100)
        if s >= 85 { return 0.8 + (s - 85) / 15 * 0.2 }
        if s >= 70 { return 0.5 + (s - 70) / 15 * 0.2 }
        return 0.3 + s / 70 * 0.2
    }
}
