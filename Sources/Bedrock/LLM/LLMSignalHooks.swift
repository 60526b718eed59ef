import TradingCore

/// What the bar path asks of the LLM layer (SPEC §12). Every call returns at once: a lock and a
/// dictionary lookup, never a model call, so a slow or dead model cannot delay a signal.
public protocol LLMSignalHooks: Sendable {
    /// `market` closed a bar at `price`: the price an answer is invalidated against (> 5 %).
    func observe(market: String, price: Double)
    /// The market's sentiment now, for a new signal at `price`: the cached answer, or NEUTRAL
    /// when there is none (fallback).
    func sentiment(market: String, price: Double) -> LLMSentiment
    /// A new signal was recorded as `signalID`: queue its written explanation (it follows as
    /// `signal.explained`, or the template stays).
    func explain(signalID: Int64, signal: SignalInput)
}
