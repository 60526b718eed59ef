import JSONCodec
import RedisClient
import ReportPDF

/// `GET /v1/backtest/report/{task_id}/export?format=pdf`: a backtest report drawn as a PDF
/// (`ReportPDF`: summary metrics, equity and drawdown charts, every trade). Only backtests have
/// one: an optimisation or training job answers 400 (their reports export as json or csv).
extension JobService {
    /// The PDF download of a COMPLETED backtest. The stored report (and its chart series, when
    /// stored) are read with a pooled connection; drawing happens after it is given back.
    func pdfExport(_ call: MethodCall) -> Result<Download, APIError> {
        let read: Result<(id: String, report: [UInt8], chart: [UInt8]?, context: [String]), APIError> = withStore { c in
            let id = try taskID(call)
            let r = try record(id, on: c)
            let kind = JobKind(rawValue: r["kind"] ?? "") ?? .backtest
            guard kind == .backtest else {
                throw APIError(
                    .badRequest,
                    "format pdf is for backtest reports; task \(id) is a\(kind == .optimize ? "n optimisation" : " training") job, export it as json or csv"
                )
            }
            let report = try stored(id, "report", on: c)
            let chart = try store.stored(id: id, "chart", on: c)
            return (id, report, chart, Self.pdfContext(id, record: r))
        }
        return read.flatMap { stored in
            do {
                let report = try JSONCodec.parse(stored.report)
                let chart = try stored.chart.map { try JSONCodec.parse($0) }
                let document = try BacktestDocument(report: report, curve: chart, context: stored.context)
                return .success(
                    Download(
                        contentType: "application/pdf", filename: "backtest-\(stored.id).pdf",
                        body: try ReportPDF.render(document)))
            } catch {
                log.error("jobs: cannot draw a report PDF", metadata: ["task_id": "\(stored.id)", "error": "\(error)"])
                return .failure(APIError(.internal, "the report of task \(stored.id) could not be drawn as PDF"))
            }
        }
    }

    /// The title page's first lines: the task and what it ran on.
    static func pdfContext(_ id: String, record: [String: String]) -> [String] {
        var line = "Task \(id)"
        if let summary = record["summary"].flatMap({ try? JSONCodec.parse($0) })?.objectValue {
            let market = summary["market"]?.stringValue
            let interval = summary["interval"]?.stringValue
            let dataset = summary["dataset"]?.stringValue
            if let market { line += " · \(market)" + (interval.map { " \($0)" } ?? "") }
            if let dataset { line += " · dataset \(dataset)" }
        }
        if let owner = record["owner"], !owner.isEmpty { line += " · run by \(owner)" }
        return [line]
    }
}
