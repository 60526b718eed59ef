import TradingCore

/// Where `bedrock backfill` puts the bars it pages through: a CSV file or a klines stream. Both
/// are resumable (`lastOpenTime` says where a previous run stopped) and idempotent (a bar not
/// after the last one is never written).
public protocol BackfillSink {
    /// The open time (ms) of the last bar already held, or nil when there is none.
    func lastOpenTime() throws -> Int64?
    /// Writes `bars` (oldest first), each one only when it opens after the last bar held; answers
    /// how many were written. A run killed at any moment leaves whole bars only.
    mutating func write(_ bars: [Bar]) throws -> Int
    /// What the bars are written to, for messages (a path or a stream key).
    var destination: String { get }
}
