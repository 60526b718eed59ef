import LLMCore

/// The facts of one closed trade for the journal template (`LLMTask.journal`), all computed by
/// Bedrock from the ledger, never by the model. Pure: it reads the stored hashes (field → decimal
/// text) of the trade and of the signal it came from.
///
/// | placeholder | value |
/// |---|---|
/// | `trade_id`, `market`, `side`, `entry_time`, `entry_price`, `exit_time`, `exit_price`, `exit_reason`, `pnl`, `commission` | the trade's stored fields as they are (`pnl` is the realized pnl net of both commissions) |
/// | `quantity` | the trade's `size` |
/// | `strategy`, `signal_explanation` | the signal's `strategy` and `explanation`; for a trade opened without a signal, a sentence saying so |
/// | `return_pct` | pnl / (entry_price × size) × 100, two decimals (`FactText`); `n/a` when the cost is zero |
///
/// A field missing from the trade (a record written by an older gateway) is `n/a`.
enum JournalFacts {
    /// What `strategy` and `signal_explanation` say for a trade opened without a signal.
    static let noSignal = "none (the position was opened without a signal)"

    /// The template values for the trade `trade` (its stored hash), opened from `signal` (the
    /// stored hash of its signal, nil when it has none or it is gone).
    static func values(trade: [String: String], signal: [String: String]?) -> [String: String] {
        func field(_ name: String) -> String {
            guard let text = trade[name], !text.isEmpty else { return FactText.notAvailable }
            return text
        }
        func signalField(_ name: String) -> String {
            guard let signal else { return noSignal }
            guard let text = signal[name], !text.isEmpty else { return FactText.notAvailable }
            return text
        }
        return [
            "trade_id": field("id"), "market": field("market"), "side": field("side"),
            "strategy": signalField("strategy"), "quantity": field("size"),
            "entry_time": field("entry_time"), "entry_price": field("entry_price"),
            "exit_time": field("exit_time"), "exit_price": field("exit_price"),
            "exit_reason": field("exit_reason"), "pnl": field("pnl"), "commission": field("commission"),
            "return_pct": returnPercent(trade), "signal_explanation": signalField("explanation"),
        ]
    }

    /// pnl / (entry_price × size) × 100 with two decimals; `n/a` when a number is missing or the
    /// cost is zero.
    static func returnPercent(_ trade: [String: String]) -> String {
        guard let pnl = trade["pnl"].flatMap(Double.init), let entry = trade["entry_price"].flatMap(Double.init),
            let size = trade["size"].flatMap(Double.init), entry * size != 0
        else { return FactText.notAvailable }
        return FactText.fixed2(pnl / (entry * size) * 100)
    }
}
