/// TradingCore: pure Swift trading modules (bars, indicators, strategies, arbiter, sizing,
/// risk guard, backtester, metrics, optimiser). No C libraries, no I/O beyond reading a named file.
public enum TradingCore {
    /// Version of the trading semantics (SPEC §8) this module implements.
    public static let semanticsVersion = "2.0"
}
