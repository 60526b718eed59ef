/// How Bedrock writes the numbers it computes into a prompt, so the model quotes them as they are
/// and never sees float noise (`0.30000000000000004`):
///
/// - money and prices read from the ledger are its stored decimal text, unchanged (exact, at most
///   8 decimals, no trailing zeros: `"98.9"`, `"-12.345"`); sums of money are added in the
///   ledger's integer units (`Money`) and written the same way;
/// - computed percentages and ratios (return, win rate, drawdown, Sharpe) are rounded half away
///   from zero to two decimals and always written with two (`"12.50"`, `"-3.25"`, never `"-0.00"`);
/// - a figure that cannot be computed (no trades, a zero cost) is `"n/a"`.
enum FactText {
    /// What stands for a figure that cannot be computed.
    static let notAvailable = "n/a"

    /// `value` with exactly two decimals, rounded half away from zero; `"n/a"` when not finite.
    static func fixed2(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return notAvailable }
        let hundredths = Int64((value * 100).rounded())
        let magnitude = hundredths.magnitude
        let cents = magnitude % 100
        let text = "\(magnitude / 100)." + (cents < 10 ? "0" : "") + "\(cents)"
        return hundredths < 0 ? "-" + text : text
    }
}
