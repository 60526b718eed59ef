/// Page 2: the equity chart and the drawdown chart, sharing one time axis style.
extension ReportPDF {
    /// Where a chart's plot area lies on the page, in points.
    struct Frame {
        var x, y, width, height: Double
    }

    static func drawCharts(_ d: BacktestDocument, on canvas: PDFCanvas) {
        let left = margin + 56
        let width = PDFCanvas.width - left - margin - 16
        let equityNote = d.equity.last.map { "final equity " + ValueAxis.label($0.equity, decimals: 2) } ?? ""
        chart(
            d.equity, title: "Equity", note: equityNote, frame: Frame(x: left, y: margin + 28, width: width, height: 250),
            color: (0.13, 0.38, 0.75), toZero: false, on: canvas)
        let ddNote = d.maxDrawdown.map { "max drawdown " + ValueAxis.label($0, decimals: 2) + " %" } ?? ""
        chart(
            d.drawdown, title: "Drawdown (%)", note: ddNote,
            frame: Frame(x: left, y: margin + 28 + 250 + 64, width: width, height: 150),
            color: (0.78, 0.18, 0.18), toZero: true, on: canvas)
    }

    /// One line chart: title and note above, value marks on the left, time marks below, the
    /// series stroked in `color` and filled under (`toZero`: between the line and 0).
    static func chart(
        _ series: [BacktestDocument.Point], title: String, note: String, frame f: Frame,
        color: (Double, Double, Double), toZero: Bool, on canvas: PDFCanvas
    ) {
        canvas.color(0.1, 0.1, 0.12)
        canvas.font(12, bold: true)
        canvas.text(title, x: f.x, y: f.y - 10)
        canvas.font(9)
        canvas.color(0.3, 0.3, 0.33)
        canvas.text(note, x: f.x + f.width, y: f.y - 10, align: .right)
        canvas.lineWidth(0.6)
        canvas.color(0.6, 0.6, 0.63)
        canvas.rect(f.x, f.y, f.width, f.height)
        canvas.stroke()
        guard series.count >= 2, let first = series.first?.time, let last = series.last?.time, last > first else {
            canvas.font(10)
            canvas.text("Not enough equity data to draw", x: f.x + f.width / 2, y: f.y + f.height / 2, align: .center)
            return
        }
        let values = series.map(\.equity)
        var low = values.min() ?? 0
        var high = values.max() ?? 0
        if toZero { high = max(high, 0) }
        if !toZero && high - low < 1e-9 { (low, high) = (low - 1, high + 1) }
        let marks = ValueAxis.ticks(low: low, high: high, count: max(4, Int(f.height / 30)))
        guard let bottom = marks.values.first, let top = marks.values.last, top > bottom else { return }
        let xOf = { (t: Int64) in f.x + Double(t - first) / Double(last - first) * f.width }
        let yOf = { (v: Double) in f.y + f.height - (v - bottom) / (top - bottom) * f.height }

        // Value marks: light grid lines, labels right-aligned left of the plot.
        canvas.font(7.5)
        canvas.lineWidth(0.4)
        for v in marks.values {
            canvas.color(0.88, 0.88, 0.9)
            canvas.segment(f.x, yOf(v), f.x + f.width, yOf(v))
            canvas.color(0.3, 0.3, 0.33)
            canvas.text(ValueAxis.label(v, decimals: marks.decimals), x: f.x - 5, y: yOf(v) + 2.5, align: .right)
        }
        // Time marks: as many as fit without two labels touching, whatever the range.
        for tick in TimeAxis.ticks(from: first, to: last, width: f.width, gap: 14, measure: canvas.textWidth) {
            let x = xOf(tick.time)
            canvas.color(0.88, 0.88, 0.9)
            canvas.segment(x, f.y, x, f.y + f.height)
            canvas.color(0.6, 0.6, 0.63)
            canvas.segment(x, f.y + f.height, x, f.y + f.height + 3)
            canvas.color(0.3, 0.3, 0.33)
            canvas.text(tick.label, x: x, y: f.y + f.height + 12, align: .center)
        }

        // The series, thinned to about two points per point of width.
        let kept = MinMaxSampler.indices(values, buckets: Int(f.width / 2))
        let base = toZero ? yOf(0) : f.y + f.height
        canvas.clipped(f.x, f.y, f.width, f.height) {
            canvas.move(xOf(series[kept[0]].time), base)
            for i in kept { canvas.line(xOf(series[i].time), yOf(values[i])) }
            canvas.line(xOf(series[kept[kept.count - 1]].time), base)
            canvas.close()
            canvas.color(color.0, color.1, color.2, alpha: 0.15)
            canvas.fill()
            canvas.move(xOf(series[kept[0]].time), yOf(values[kept[0]]))
            for i in kept.dropFirst() { canvas.line(xOf(series[i].time), yOf(values[i])) }
            canvas.color(color.0, color.1, color.2)
            canvas.lineWidth(1)
            canvas.stroke()
        }
    }
}
