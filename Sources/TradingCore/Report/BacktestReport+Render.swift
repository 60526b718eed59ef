import JSONCodec

/// JSON and CSV renderings of a report (SPEC §8).
extension BacktestReport {
    /// One trade as a JSON object: `entry_time, exit_time, side, entry_price, exit_price, size,
    /// pnl, commission, exit_reason` (times RFC 3339 UTC), plus `slippage`.
    public static func tradeJSON(_ t: Trade) -> JSONValue {
        .object([
            ("entry_time", .string(RFC3339.format(milliseconds: t.entryTime))),
            ("exit_time", .string(RFC3339.format(milliseconds: t.exitTime))),
            ("side", .string(t.side.rawValue)),
            ("entry_price", .plain(t.entryPrice)),
            ("exit_price", .plain(t.exitPrice)),
            ("size", .plain(t.size)),
            ("pnl", .plain(t.pnl)),
            ("commission", .plain(t.commission)),
            ("slippage", .plain(t.slippage)),
            ("exit_reason", .string(t.exitReason.rawValue)),
        ])
    }

    /// `parameters` as a JSON object, keys sorted.
    public var parametersJSON: JSONValue {
        .object(sortedParameters.map { ($0.name, .plain($0.value)) })
    }

    /// The full report as a JSON value with snake_case keys in a fixed order:
    /// `strategy_name, start_date, end_date`, the metric fields (`metricFields`), `parameters`,
    /// `signals_generated`, `rejected_signals` (reason code → count), `ml_model` (name or null),
    /// `scored_signals`, `trades`, `equity_curve` (`[[time, equity], ...]`, times RFC 3339 UTC),
    /// then, when runs are compared, `compare` (`{"rules_only": <that report without "trades">}`).
    /// Pass `includeDetail: false` to leave out `trades` and `equity_curve` (of the compared runs too).
    public func jsonValue(includeDetail: Bool = true) -> JSONValue {
        jsonValue(trades: includeDetail, curve: includeDetail)
    }

    private func jsonValue(trades withTrades: Bool, curve withCurve: Bool) -> JSONValue {
        var members = summaryMembers
        if withTrades { members.append(("trades", .array(trades.map(BacktestReport.tradeJSON)))) }
        if withCurve {
            var curve = [JSONValue]()
            curve.reserveCapacity(equity.count)
            for i in 0..<min(equity.count, equityTimes.count) {
                curve.append(.array([.string(RFC3339.format(milliseconds: equityTimes[i])), .plain(equity[i])]))
            }
            members.append(("equity_curve", .array(curve)))
        }
        if !compare.isEmpty {
            members.append(
                (
                    "compare",
                    .object(
                        compare.sorted { $0.key < $1.key }.map { ($0.key, $0.value.jsonValue(trades: false, curve: withCurve)) })
                ))
        }
        return .object(members)
    }

    /// The members of `jsonValue(includeDetail: false)`.
    private var summaryMembers: [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [
            ("strategy_name", .string(strategyName)),
            ("start_date", .string(RFC3339.format(milliseconds: startTime))),
            ("end_date", .string(RFC3339.format(milliseconds: endTime))),
        ]
        members += metricFields
        members.append(("parameters", parametersJSON))
        members.append(("signals_generated", .int(Int64(signalsGenerated))))
        members.append(
            (
                "rejected_signals",
                .object(
                    rejectedSignals.sorted { $0.key < $1.key }
                        .map { ($0.key, .int(Int64($0.value))) })
            ))
        members.append(("ml_model", mlModel.map { .string($0) } ?? .null))
        members.append(("scored_signals", .int(Int64(scoredSignals))))
        return members
    }

    /// The full report as compact JSON text, doubles in shortest round-trip form.
    public func json() -> String {
        var bytes: [UInt8] = []
        writeJSON { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `json()` handed to `output` in pieces of about `chunk` bytes: the text of
    /// `JSONCodec.encode(jsonValue(), doubles: .shortest)`, but the equity curve (one entry per
    /// bar) goes straight into a reused buffer instead of through a `JSONValue` per bar, so a
    /// 200,000-bar report costs no tree and no 10 MB buffer.
    public func writeJSON(chunk: Int = 1 << 20, _ output: (UnsafeBufferPointer<UInt8>) -> Void) {
        var writer = JSONWriter(doubles: .shortest, capacity: chunk + 4096)
        write(into: &writer, trades: true, chunk: chunk, output)
        writer.flush(to: output)
    }

    /// This report's object into `writer`, flushing to `output` every `chunk` bytes.
    private func write(
        into writer: inout JSONWriter, trades withTrades: Bool, chunk: Int,
        _ output: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        writer.append("{")
        for (key, value) in summaryMembers {
            writer.write(.string(key))
            writer.append(":")
            writer.write(value)
            writer.append(",")
        }
        if withTrades {
            writer.append("\"trades\":")
            writer.write(.array(trades.map(BacktestReport.tradeJSON)))
            writer.append(",")
        }
        writer.append("\"equity_curve\":[")
        var times = RFC3339.Formatter()
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: RFC3339.Formatter.capacity + 5) { point in
            // Each point starts `,["<time>",` (no comma before the first), built in place: the
            // time needs no escaping, so the whole piece goes out in one append.
            point[0] = UInt8(ascii: ","); point[1] = UInt8(ascii: "["); point[2] = UInt8(ascii: "\"")
            for i in 0..<min(equity.count, equityTimes.count) {
                let n = times.write(milliseconds: equityTimes[i], into: UnsafeMutableBufferPointer(rebasing: point[3...]))
                point[3 + n] = UInt8(ascii: "\""); point[4 + n] = UInt8(ascii: ",")
                writer.append(UnsafeBufferPointer(rebasing: point[(i == 0 ? 1 : 0)..<(5 + n)]))
                writer.write(.plain(equity[i]))
                writer.append("]")
                if writer.bytes.count >= chunk { writer.flush(to: output) }
            }
        }
        writer.append("]")
        if !compare.isEmpty {
            writer.append(",\"compare\":{")
            for (k, (name, report)) in compare.sorted(by: { $0.key < $1.key }).enumerated() {
                if k > 0 { writer.append(",") }
                writer.write(.string(name))
                writer.append(":")
                report.write(into: &writer, trades: false, chunk: chunk, output)
            }
            writer.append("}")
        }
        writer.append("}")
    }

    /// Column names of the CSV export, in order.
    public static let csvHeader = [
        "entry_time", "exit_time", "side", "entry_price", "exit_price",
        "size", "pnl", "commission", "slippage", "exit_reason",
    ]

    /// The trades as CSV: a header row (`csvHeader`), then one row per trade, times RFC 3339
    /// UTC, numbers in shortest round-trip form; lines end with `\n`.
    public func csv() -> String {
        var out = BacktestReport.csvHeader.joined(separator: ",") + "\n"
        for t in trades {
            let fields = [
                RFC3339.format(milliseconds: t.entryTime), RFC3339.format(milliseconds: t.exitTime),
                t.side.rawValue, TextFormat.plain(t.entryPrice), TextFormat.plain(t.exitPrice),
                TextFormat.plain(t.size), TextFormat.plain(t.pnl), TextFormat.plain(t.commission),
                TextFormat.plain(t.slippage), t.exitReason.rawValue,
            ]
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }
}
