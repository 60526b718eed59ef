/// Backtest reports as PDF, drawn with cairo: page 1 the title and the summary metrics, page 2
/// the equity and drawdown charts, then the trade table (every trade, `tradeRowsPerPage` rows a
/// page, the column header repeated on each). A4 landscape. No Redis, no gateway: give it a
/// `BacktestDocument`, get the file's bytes.
public enum ReportPDF {
    static let margin = 40.0
    static let footerY = PDFCanvas.height - 20

    /// The document's pages: title, charts, then the trade pages (at least one, which says
    /// when there are no trades).
    public static func pageCount(trades: Int) -> Int { 2 + tradePages(trades) }

    /// Pages the trade table takes.
    static func tradePages(_ trades: Int) -> Int { max(1, (trades + tradeRowsPerPage - 1) / tradeRowsPerPage) }

    /// The PDF of `document`.
    public static func render(_ document: BacktestDocument) throws -> [UInt8] {
        let canvas = PDFCanvas(title: document.title)
        let pages = pageCount(trades: document.trades.count)
        drawSummary(document, on: canvas)
        footer(page: 1, of: pages, on: canvas)
        canvas.nextPage()
        drawCharts(document, on: canvas)
        footer(page: 2, of: pages, on: canvas)
        for page in 0..<tradePages(document.trades.count) {
            canvas.nextPage()
            drawTrades(document.trades, page: page, pages: tradePages(document.trades.count), on: canvas)
            footer(page: 3 + page, of: pages, on: canvas)
        }
        return try canvas.finish()
    }

    static func footer(page: Int, of pages: Int, on canvas: PDFCanvas) {
        canvas.font(7.5)
        canvas.color(0.45, 0.45, 0.45)
        canvas.text("Bedrock backtest report · times in UTC", x: margin, y: footerY)
        canvas.text("Page \(page) of \(pages)", x: PDFCanvas.width - margin, y: footerY, align: .right)
    }

    // MARK: page 1

    static func drawSummary(_ d: BacktestDocument, on canvas: PDFCanvas) {
        let width = PDFCanvas.width - 2 * margin
        canvas.color(0.1, 0.1, 0.12)
        canvas.font(20, bold: true)
        canvas.text(d.title, x: margin, y: margin + 24)
        var y = margin + 46
        canvas.font(10)
        canvas.color(0.3, 0.3, 0.33)
        for line in d.subtitle.flatMap({ wrap($0, width: width, on: canvas) }).prefix(6) {
            canvas.text(line, x: margin, y: y)
            y += 14
        }
        y += 14
        canvas.color(0.1, 0.1, 0.12)
        canvas.font(13, bold: true)
        canvas.text("Summary", x: margin, y: y)
        y += 8
        canvas.color(0.75, 0.75, 0.78)
        canvas.lineWidth(0.8)
        canvas.segment(margin, y, PDFCanvas.width - margin, y)
        y += 18

        // Two columns of label/value rows; a value too long for its column is cut with "…".
        let rowHeight = 16.0
        // Rows split evenly over the two columns, as many as the page holds.
        let capacity = max(1, Int((footerY - 24 - y) / rowHeight))
        let perColumn = min(capacity, max(1, (d.metrics.count + 1) / 2))
        let columnWidth = (width - 40) / 2
        let labelWidth = 190.0
        canvas.font(10)
        for (i, row) in d.metrics.prefix(2 * perColumn).enumerated() {
            let x = margin + Double(i / perColumn) * (columnWidth + 40)
            let rowY = y + Double(i % perColumn) * rowHeight
            if i % 2 == 0 {
                canvas.color(0.95, 0.95, 0.97)
                canvas.rect(x - 4, rowY - 11.5, columnWidth + 8, rowHeight)
                canvas.fill()
            }
            canvas.color(0.3, 0.3, 0.33)
            canvas.font(10)
            canvas.text(fit(row.label, width: labelWidth - 8, on: canvas), x: x, y: rowY)
            canvas.color(0.1, 0.1, 0.12)
            canvas.font(10, bold: true)
            canvas.text(fit(row.value, width: columnWidth - labelWidth, on: canvas), x: x + labelWidth, y: rowY)
        }
    }

    /// `text` cut to `width` points with a trailing "…" when it is wider.
    static func fit(_ text: String, width: Double, on canvas: PDFCanvas) -> String {
        guard canvas.textWidth(text) > width else { return text }
        var cut = Substring(text)
        while !cut.isEmpty && canvas.textWidth(cut + "…") > width { cut = cut.dropLast() }
        return cut + "…"
    }

    /// `text` broken at spaces into lines at most `width` points wide (a single longer word is cut).
    static func wrap(_ text: String, width: Double, on canvas: PDFCanvas) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let candidate = line.isEmpty ? String(word) : line + " " + word
            if canvas.textWidth(candidate) <= width || line.isEmpty {
                line = candidate
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        lines.append(line)
        return lines.map { fit($0, width: width, on: canvas) }
    }
}
