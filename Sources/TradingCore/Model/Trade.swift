/// Why a position was closed. Raw values are the wire names (SPEC §7, §8).
public enum ExitReason: String, Sendable, Codable, CaseIterable {
    case stopLoss = "STOP_LOSS"
    case trailingStop = "TRAILING_STOP"
    case profitTarget = "PROFIT_TARGET"
    case signal = "SIGNAL"  // strategy exit, e.g. the opposite SMA cross
    case manual = "MANUAL"
    case endOfData = "END_OF_DATA"
}

/// One closed round trip, as reported by the backtester and the ledger.
/// `pnl` is net of commission on both legs; prices include slippage.
public struct Trade: Sendable, Equatable {
    public var entryTime: Int64  // ms since epoch
    public var exitTime: Int64  // ms since epoch
    public var side: Side
    public var entryPrice: Double
    public var exitPrice: Double
    public var size: Double
    public var pnl: Double
    public var commission: Double
    public var slippage: Double  // total slippage cost of both legs, in quote currency
    public var exitReason: ExitReason

    public init(
        entryTime: Int64, exitTime: Int64, side: Side, entryPrice: Double, exitPrice: Double,
        size: Double, pnl: Double, commission: Double, slippage: Double, exitReason: ExitReason
    ) {
        self.entryTime = entryTime
        self.exitTime = exitTime
        self.side = side
        self.entryPrice = entryPrice
        self.exitPrice = exitPrice
        self.size = size
        self.pnl = pnl
        self.commission = commission
        self.slippage = slippage
        self.exitReason = exitReason
    }
}
