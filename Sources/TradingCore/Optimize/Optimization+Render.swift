import JSONCodec

/// JSON and text renderings of optimisation results.
extension OptimizationResult {
    /// `{"metric", "lower_is_better", "evaluated", "failed", "results": [{"rank", "parameters",
    /// "score", <every metric field>}], "errors": [{"parameters", "error"}]}`; `top` limits
    /// the results listed (nil = all).
    public func jsonValue(top: Int? = nil) -> JSONValue {
        let shown = top.map { Array(ranked.prefix($0)) } ?? ranked
        return .object([
            ("metric", .string(metric)),
            ("lower_is_better", .bool(lowerIsBetter)),
            ("evaluated", .int(Int64(ranked.count + failed.count))),
            ("failed", .int(Int64(failed.count))),
            (
                "results",
                .array(
                    shown.enumerated().map { rank, run in
                        var members: [(String, JSONValue)] = [
                            ("rank", .int(Int64(rank + 1))),
                            ("parameters", OptimizationRender.parameters(run.parameters)),
                            ("score", .plain(run.score)),
                        ]
                        members += run.report?.metricFields ?? []
                        return .object(members)
                    })
            ),
            (
                "errors",
                .array(
                    failed.prefix(20).map {
                        .object([
                            ("parameters", OptimizationRender.parameters($0.parameters)),
                            ("error", .string($0.error ?? "")),
                        ])
                    })
            ),
        ])
    }

    /// `jsonValue(top:)` as compact JSON text, doubles in shortest round-trip form.
    public func json(top: Int? = nil) -> String { JSONCodec.encodeString(jsonValue(top: top), doubles: .shortest) }

    /// A ranked table: rank, parameters, the metric, then roi, max drawdown, trades.
    public func text(top: Int = 20) -> String {
        var lines = [
            "Optimisation by \(metric) (\(lowerIsBetter ? "lower" : "higher") is better): "
                + "\(ranked.count + failed.count) parameter sets, \(failed.count) failed"
        ]
        lines.append(OptimizationRender.row(["rank", "parameters", metric, "roi %", "max_dd %", "trades"]))
        for (i, run) in ranked.prefix(top).enumerated() {
            let m = run.report?.metrics
            lines.append(
                OptimizationRender.row([
                    "\(i + 1)", OptimizationRender.parametersText(run.parameters),
                    TextFormat.optional(run.score, 4), TextFormat.optional(m?.roi, 2),
                    TextFormat.optional(m?.maxDrawdown, 2), m.map { "\($0.totalTrades)" } ?? "",
                ]))
        }
        if ranked.count > top { lines.append("... \(ranked.count - top) more (use --format json)") }
        if let f = failed.first {
            lines.append("First failure (\(OptimizationRender.parametersText(f.parameters))): \(f.error ?? "")")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension WalkForwardResult {
    /// `{"metric", "lower_is_better", "candidates_per_fold", "folds": [{"fold", "in_sample":
    /// {"start", "end", "bars"}, "out_of_sample": {...}, "parameters", "in_sample_score",
    /// "out_of_sample_score", "in_sample_metrics", "out_of_sample_metrics"}], "ranking": [{"rank",
    /// "parameters", "folds_won", "mean_out_of_sample", "mean_in_sample",
    /// "out_of_sample_scores"}]}`.
    public func jsonValue() -> JSONValue {
        func window(_ r: Range<Int>, _ report: BacktestReport?) -> JSONValue {
            var members: [(String, JSONValue)] = [
                ("first_bar", .int(Int64(r.lowerBound))),
                ("bars", .int(Int64(r.count))),
            ]
            if let report {
                members.append(("start_date", .string(RFC3339.format(milliseconds: report.startTime))))
                members.append(("end_date", .string(RFC3339.format(milliseconds: report.endTime))))
            }
            return .object(members)
        }
        func metricsObject(_ r: BacktestReport?) -> JSONValue { r.map { .object($0.metricFields) } ?? .null }
        return .object([
            ("metric", .string(metric)),
            ("lower_is_better", .bool(lowerIsBetter)),
            ("candidates_per_fold", .int(Int64(candidatesPerFold))),
            (
                "folds",
                .array(
                    folds.map { f in
                        .object([
                            ("fold", .int(Int64(f.window.index + 1))),
                            ("in_sample", window(f.window.inSample, f.inSample)),
                            ("out_of_sample", window(f.window.outOfSample, f.outOfSample)),
                            ("parameters", OptimizationRender.parameters(f.parameters)),
                            ("in_sample_score", .plain(f.inSampleScore)),
                            ("out_of_sample_score", .plain(f.outOfSampleScore)),
                            ("in_sample_metrics", metricsObject(f.inSample)),
                            ("out_of_sample_metrics", metricsObject(f.outOfSample)),
                            ("out_of_sample_error", f.outOfSampleError.map { .string($0) } ?? .null),
                        ])
                    })
            ),
            (
                "ranking",
                .array(
                    ranking.enumerated().map { i, c in
                        .object([
                            ("rank", .int(Int64(i + 1))),
                            ("parameters", OptimizationRender.parameters(c.parameters)),
                            ("folds_won", .array(c.foldsWon.map { .int(Int64($0 + 1)) })),
                            ("mean_out_of_sample", .plain(c.meanOutOfSample)),
                            ("mean_in_sample", .plain(c.meanInSample)),
                            ("out_of_sample_scores", .array(c.outOfSampleScores.map { .plain($0) })),
                        ])
                    })
            ),
        ])
    }

    /// `jsonValue()` as compact JSON text, doubles in shortest round-trip form.
    public func json() -> String { JSONCodec.encodeString(jsonValue(), doubles: .shortest) }

    /// Folds side by side (in-sample vs out-of-sample score), then the out-of-sample ranking.
    public func text() -> String {
        var lines = ["Walk-forward by \(metric), \(folds.count) folds, \(candidatesPerFold) parameter sets per fold"]
        lines.append(
            OptimizationRender.row([
                "fold", "in-sample bars", "out-of-sample bars", "best in-sample",
                "IS " + metric, "OOS " + metric,
            ]))
        for f in folds {
            let w = f.window
            lines.append(
                OptimizationRender.row([
                    "\(w.index + 1)", "\(w.inSample.lowerBound)..<\(w.inSample.upperBound)",
                    "\(w.outOfSample.lowerBound)..<\(w.outOfSample.upperBound)",
                    OptimizationRender.parametersText(f.parameters),
                    TextFormat.optional(f.inSampleScore, 4),
                    f.outOfSampleError == nil ? TextFormat.optional(f.outOfSampleScore, 4) : "failed",
                ]))
        }
        lines.append("")
        lines.append("Ranking by mean out-of-sample \(metric) over all \(folds.count) out-of-sample windows:")
        lines.append(OptimizationRender.row(["rank", "parameters", "folds won", "mean IS", "mean OOS"]))
        for (i, c) in ranking.enumerated() {
            lines.append(
                OptimizationRender.row([
                    "\(i + 1)", OptimizationRender.parametersText(c.parameters),
                    c.foldsWon.map { "\($0 + 1)" }.joined(separator: ","),
                    TextFormat.optional(c.meanInSample, 4), TextFormat.optional(c.meanOutOfSample, 4),
                ]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Shared formatting helpers for optimisation output.
enum OptimizationRender {
    static func parameters(_ p: [String: Double]) -> JSONValue {
        .object(p.sorted { $0.key < $1.key }.map { ($0.key, .plain($0.value)) })
    }

    static func parametersText(_ p: [String: Double]) -> String {
        p.sorted { $0.key < $1.key }.map { "\($0.key)=\(TextFormat.plain($0.value))" }
            .joined(separator: " ")
    }

    static func row(_ cells: [String]) -> String {
        let widths = [5, 26, 20, 26, 14, 14]
        return cells.enumerated().map { i, c in
            i == cells.count - 1 ? c : TextFormat.padRight(c, i < widths.count ? widths[i] : 14)
        }.joined()
    }
}
