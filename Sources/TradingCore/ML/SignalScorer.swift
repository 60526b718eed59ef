/// Gives an entry signal a probability that its trade wins, from its feature vector
/// (`MLFeatures` order; NaN = missing). The arbiter takes probability × 100 as the ML score.
///
/// A loaded XGBoost-format model (`TreeEnsemble`) is one; tests use others.
public protocol SignalScorer: Sendable {
    /// The probability (0–1) that the trade described by `features` closes with net pnl > 0.
    func probability(_ features: [Double]) -> Double
}
