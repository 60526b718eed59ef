/// What Bedrock asks a model for (SPEC §12). Raw values are the template file names under
/// `llm.prompts_dir` (`sentiment.txt`, ...) and the `task` label of `bedrock_llm_requests_total`.
public enum LLMTask: String, Sendable, CaseIterable, Hashable {
    /// A market's sentiment from its recent news: one line `POSITIVE|NEUTRAL|NEGATIVE: <reason>`.
    case sentiment
    /// A written explanation of a signal, replacing the stored template.
    case explanation
    /// A Markdown journal entry for one closed trade.
    case journal
    /// A Markdown review memo of a date range.
    case review

    /// The template's file name inside `llm.prompts_dir`.
    public var templateFileName: String { rawValue + ".txt" }

    /// The placeholders Bedrock fills for this task: a template must use exactly these, so every
    /// fact in a prompt comes from Bedrock, never from the model.
    public var placeholders: Set<String> {
        switch self {
        case .sentiment:
            return ["market", "price", "headlines"]
        case .explanation:
            return [
                "market", "side", "strategy", "price", "stop_loss", "take_profit", "confidence", "sentiment",
                "factors",
            ]
        case .journal:
            return [
                "trade_id", "market", "side", "strategy", "quantity", "entry_time", "entry_price", "exit_time",
                "exit_price", "exit_reason", "pnl", "commission", "return_pct", "signal_explanation",
            ]
        case .review:
            return [
                "start_date", "end_date", "trade_count", "win_rate", "total_pnl", "max_drawdown", "sharpe",
                "trades",
            ]
        }
    }
}
