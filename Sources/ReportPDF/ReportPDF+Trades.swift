import TradingCore

/// The trade table pages: every trade, `tradeRowsPerPage` a page, the column header on each.
extension ReportPDF {
    /// Rows of the trade table on one page.
    public static let tradeRowsPerPage = 38

    static let tableTop = margin + 40
    static let rowHeight = 12.0

    /// A column: header, left edge, width, alignment, and the cell text of a trade (`index` is the
    /// trade's 1-based number).
    struct Column: Sendable {
        var header: String
        var x: Double
        var width: Double
        var align: PDFCanvas.Align
        var cell: @Sendable (_ index: Int, _ trade: BacktestDocument.TradeRow) -> String
    }

    static let columns: [Column] = {
        let specs: [(String, Double, PDFCanvas.Align, @Sendable (Int, BacktestDocument.TradeRow) -> String)] = [
            ("#", 30, .right, { i, _ in "\(i)" }),
            ("Entry time", 86, .left, { _, t in UTCTime.minute(t.entryTime) }),
            ("Exit time", 86, .left, { _, t in UTCTime.minute(t.exitTime) }),
            ("Side", 30, .left, { _, t in t.side }),
            ("Entry price", 70, .right, { _, t in TextFormat.significant(t.entryPrice) }),
            ("Exit price", 70, .right, { _, t in TextFormat.significant(t.exitPrice) }),
            ("Size", 70, .right, { _, t in TextFormat.significant(t.size) }),
            ("P&L", 72, .right, { _, t in TextFormat.fixed(t.pnl, 2) }),
            ("Commission", 64, .right, { _, t in TextFormat.significant(t.commission) }),
            ("Exit reason", 84, .left, { _, t in BacktestDocument.readable(t.exitReason) }),
        ]
        var x = margin
        return specs.map { header, width, align, cell in
            defer { x += width + 6 }
            return Column(header: header, x: x, width: width, align: align, cell: cell)
        }
    }()

    static func drawTrades(_ trades: [BacktestDocument.TradeRow], page: Int, pages: Int, on canvas: PDFCanvas) {
        canvas.color(0.1, 0.1, 0.12)
        canvas.font(13, bold: true)
        let part = pages > 1 ? " — part \(page + 1) of \(pages)" : ""
        canvas.text("Trades (\(trades.count))" + part, x: margin, y: margin + 14)

        let right = columns[columns.count - 1].x + columns[columns.count - 1].width
        canvas.color(0.9, 0.91, 0.94)
        canvas.rect(margin - 4, tableTop - 10, right - margin + 8, rowHeight + 2)
        canvas.fill()
        canvas.color(0.1, 0.1, 0.12)
        canvas.font(8, bold: true)
        for c in columns { canvas.text(c.header, x: anchor(c), y: tableTop, align: c.align) }

        guard !trades.isEmpty else {
            canvas.font(10)
            canvas.text("No trades.", x: margin, y: tableTop + 24)
            return
        }
        let start = page * tradeRowsPerPage
        let end = min(trades.count, start + tradeRowsPerPage)
        canvas.font(8)
        for i in start..<end {
            let y = tableTop + Double(i - start + 1) * rowHeight + 4
            if (i - start) % 2 == 1 {
                canvas.color(0.96, 0.96, 0.98)
                canvas.rect(margin - 4, y - 9, right - margin + 8, rowHeight)
                canvas.fill()
            }
            let trade = trades[i]
            canvas.color(0.1, 0.1, 0.12)
            for c in columns {
                if c.header == "P&L" {
                    trade.pnl < 0 ? canvas.color(0.7, 0.12, 0.12) : canvas.color(0.1, 0.45, 0.2)
                }
                canvas.text(c.cell(i + 1, trade), x: anchor(c), y: y, align: c.align)
                if c.header == "P&L" { canvas.color(0.1, 0.1, 0.12) }
            }
        }
    }

    static func anchor(_ c: Column) -> Double {
        switch c.align {
        case .left: return c.x
        case .right: return c.x + c.width
        case .center: return c.x + c.width / 2
        }
    }
}
