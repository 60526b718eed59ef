import JSONCodec

/// The documentation of every `Method` (one table per area, merged here) and of the download
/// routes, for `OpenAPIDocument`. A test fails when a method has none.
enum MethodDocs {
    /// Method → its documentation.
    static let table: [Method: MethodDoc] = ledger.merging(jobs) { a, _ in a }.merging(models) { a, _ in a }
        .merging(integrator) { a, _ in a }

    /// The documentation of one download route (REST only, an attachment rather than JSON).
    struct DownloadDoc: Sendable {
        var tag: String
        var summary: String
        var fields: [FieldDoc] = []
        /// What the 200 answer carries.
        var contentType: String
    }

    /// The list exports' filters.
    private static let exportFields: [FieldDoc] = [
        .market, .from, .to, .optional("format", .string, "the file format", choices: ["csv"]),
        .optional("limit", .integer, "1-10000 rows (more matches without a limit is 400)"),
    ]

    /// Download path (as registered, `{name}` for parameters) → its documentation.
    static let downloads: [String: DownloadDoc] = [
        "/v1/signals/export": DownloadDoc(
            tag: "Signals", summary: "The matching signals as CSV (the list's filters).",
            fields: exportFields + [.optional("strategy", .string, "strategy name")], contentType: "text/csv"),
        "/v1/positions/export": DownloadDoc(
            tag: "Positions", summary: "The matching positions as CSV (the list's filters).",
            fields: exportFields + [.optional("status", .string, "position status", choices: ["OPEN", "CLOSED"])],
            contentType: "text/csv"),
        "/v1/trades/export": DownloadDoc(
            tag: "Trades", summary: "The matching trades as CSV (the list's filters).", fields: exportFields,
            contentType: "text/csv"),
        "/v1/backtest/report/{task_id}/export": DownloadDoc(
            tag: "Jobs", summary: "A completed job's report as a file (PDF for backtests only).",
            fields: [.taskID, .optional("format", .string, "file format (default json)", choices: ["json", "csv", "pdf"])],
            contentType: "application/octet-stream"),
        "/v1/journal/{trade_id}/markdown": DownloadDoc(
            tag: "LLM", summary: "A trade's stored journal entry (404 until generated).",
            fields: [.required("trade_id", .integer, "the trade's id")], contentType: "text/markdown"),
        "/v1/review/markdown": DownloadDoc(
            tag: "LLM", summary: "A period's stored review (404 until generated).",
            fields: [
                .required("start_date", .string, "first day, YYYY-MM-DD"), .required("end_date", .string, "last day, YYYY-MM-DD"),
            ], contentType: "text/markdown"),
    ]
}
