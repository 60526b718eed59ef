/// What a backtest report PDF shows, already read from the stored report: a title, the summary
/// metrics as readable label/value rows, the equity curve and every trade. Built from the stored
/// report JSON with `init(report:curve:)`; drawn by `ReportPDF.render`.
public struct BacktestDocument: Sendable {
    /// One equity mark: time (ms since the Unix epoch, UTC) and the account equity then.
    public struct Point: Sendable, Equatable {
        /// Milliseconds since the Unix epoch.
        public var time: Int64
        /// Equity at `time`.
        public var equity: Double
        /// A mark at `time` of `equity`.
        public init(time: Int64, equity: Double) {
            self.time = time
            self.equity = equity
        }
    }

    /// One closed trade as the table shows it.
    public struct TradeRow: Sendable, Equatable {
        /// Entry time, ms since the Unix epoch.
        public var entryTime: Int64
        /// Exit time, ms since the Unix epoch.
        public var exitTime: Int64
        /// `BUY` or `SELL`.
        public var side: String
        /// Fill price of the entry (slippage included).
        public var entryPrice: Double
        /// Fill price of the exit (slippage included).
        public var exitPrice: Double
        /// Quantity traded.
        public var size: Double
        /// Net of commission.
        public var pnl: Double
        /// Commission of both fills.
        public var commission: Double
        /// The report's code (`STOP_LOSS`, ...); shown readable (`Stop loss`).
        public var exitReason: String

        /// A row with every column given.
        public init(
            entryTime: Int64, exitTime: Int64, side: String, entryPrice: Double, exitPrice: Double, size: Double,
            pnl: Double, commission: Double, exitReason: String
        ) {
            self.entryTime = entryTime
            self.exitTime = exitTime
            self.side = side
            self.entryPrice = entryPrice
            self.exitPrice = exitPrice
            self.size = size
            self.pnl = pnl
            self.commission = commission
            self.exitReason = exitReason
        }
    }

    /// The first line of the title page, e.g. `Backtest report: sma_cross`.
    public var title: String
    /// Lines under the title: task, period, parameters.
    public var subtitle: [String]
    /// The summary table: readable label, formatted value (units included).
    public var metrics: [(label: String, value: String)]
    /// The equity curve in time order (possibly sampled; see `init(report:curve:)`).
    public var equity: [Point]
    /// The report's maximum drawdown in percent, when it has one (shown on the drawdown chart).
    public var maxDrawdown: Double?
    /// Every trade, in the report's order.
    public var trades: [TradeRow]

    /// A document with everything given.
    public init(
        title: String, subtitle: [String] = [], metrics: [(label: String, value: String)] = [], equity: [Point] = [],
        maxDrawdown: Double? = nil, trades: [TradeRow] = []
    ) {
        self.title = title
        self.subtitle = subtitle
        self.metrics = metrics
        self.equity = equity
        self.maxDrawdown = maxDrawdown
        self.trades = trades
    }

    /// The drawdown below the running peak at each equity mark, in percent (0 or negative).
    public var drawdown: [Point] {
        var peak = -Double.infinity
        return equity.map { p in
            peak = max(peak, p.equity)
            let dd = peak > 0 && p.equity < peak ? (p.equity - peak) / peak * 100 : 0
            return Point(time: p.time, equity: dd)
        }
    }

    /// `STOP_LOSS` → `Stop loss`: the code in words, as the dashboard shows it.
    public static func readable(_ code: String) -> String {
        let words = code.lowercased().split(separator: "_").joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }
}
