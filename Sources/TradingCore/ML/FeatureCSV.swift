/// One row of a features CSV: a signal, its outcome and its feature vector.
public struct FeatureCSVRow: Sendable, Equatable {
    /// The signal's bar open time (ms since the epoch).
    public var time: Int64
    /// Market symbol (no commas).
    public var market: String
    /// Signal type (no commas).
    public var signalType: String
    /// 1 when the signal's trade closed with net pnl > 0, else 0.
    public var label: UInt8
    /// `MLFeatures.count` values in `MLFeatures` order; NaN = missing.
    public var features: [Double]

    /// A row.
    public init(time: Int64, market: String, signalType: String, label: UInt8, features: [Double]) {
        self.time = time; self.market = market; self.signalType = signalType; self.label = label; self.features = features
    }

    /// Equal when every field is, missing features (NaN) matching each other.
    public static func == (a: FeatureCSVRow, b: FeatureCSVRow) -> Bool {
        a.time == b.time && a.market == b.market && a.signalType == b.signalType && a.label == b.label
            && a.features.count == b.features.count
            && zip(a.features, b.features).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }
}

/// A features file that cannot be read: the line (1-based) and what is wrong with it.
public struct FeatureCSVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// What is wrong.
    public var reason: String
    /// "line N: reason".
    public var description: String { "line \(line): \(reason)" }
}

/// The features CSV (`bedrock features` writes it; `bedrock train --features` and `bedrock
/// predict` read it): header `time,market,signal_type,label,` then `MLFeatures.names`; `time`
/// RFC 3339 UTC, `label` 0/1, features as shortest round-trip decimals, missing as an empty
/// field. No quoting: market and signal type hold no commas. pandas.read_csv reads it with the
/// empty fields as NaN, which xgboost takes as missing.
public enum FeatureCSV {
    /// The columns before the features.
    public static let leadingColumns = ["time", "market", "signal_type", "label"]

    /// The header line (without its newline).
    public static var header: String { (leadingColumns + MLFeatures.names).joined(separator: ",") }

    /// The whole file: header and one line per row, each ending in "\n".
    public static func write(rows: [FeatureCSVRow]) -> String {
        var out = header + "\n"
        for row in rows { append(row, to: &out) }
        return out
    }

    /// Appends one row's line (with its newline), for writers that stream.
    public static func append(_ row: FeatureCSVRow, to out: inout String) {
        precondition(row.features.count == MLFeatures.count, "a features row has \(MLFeatures.count) values")
        out += RFC3339.format(milliseconds: row.time)
        out += ",\(row.market),\(row.signalType),\(row.label)"
        for x in row.features {
            out += ","
            if !x.isNaN { out += x.description }
        }
        out += "\n"
    }

    /// The rows of a features file.
    /// - Throws: `FeatureCSVError` for a wrong header or a malformed line.
    public static func parse(_ text: String) throws(FeatureCSVError) -> [FeatureCSVRow] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)  // "\r\n" too
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else {
            throw FeatureCSVError(line: 1, reason: "the file is empty; expected the header \(header)")
        }
        let columns = first.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let expected = leadingColumns + MLFeatures.names
        guard columns == expected else {
            let at =
                zip(columns, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(columns.count, expected.count)
            let found = at < columns.count ? "\"\(columns[at])\"" : "nothing"
            let want = at < expected.count ? "\"\(expected[at])\"" : "the end of the line"
            throw FeatureCSVError(
                line: 1, reason: "header column \(at + 1) is \(found), expected \(want) (the header is \(header))")
        }
        var rows: [FeatureCSVRow] = []
        rows.reserveCapacity(lines.count - 1)
        for (i, line) in lines.enumerated().dropFirst() {
            if line.isEmpty { continue }
            rows.append(try row(line, number: i + 1, columns: expected.count))
        }
        return rows
    }

    /// The rows as training input (features, labels, times).
    public static func labeledRows(_ rows: [FeatureCSVRow]) -> LabeledRows {
        var matrix = FeatureMatrix(columns: MLFeatures.count)
        for row in rows { matrix.append(row.features) }
        return LabeledRows(features: matrix, labels: rows.map(\.label), times: rows.map(\.time))
    }

    private static func row(_ line: Substring, number: Int, columns: Int) throws(FeatureCSVError) -> FeatureCSVRow {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == columns else {
            throw FeatureCSVError(line: number, reason: "\(fields.count) fields, expected \(columns)")
        }
        let timeBytes = Array(fields[0].utf8)
        guard let time = timeBytes.withUnsafeBufferPointer({ ByteNumberParser.parseTime($0, 0, $0.count) })
        else { throw FeatureCSVError(line: number, reason: "time \"\(fields[0])\" is not an RFC 3339 time") }
        guard fields[3] == "0" || fields[3] == "1" else {
            throw FeatureCSVError(line: number, reason: "label \"\(fields[3])\" is not 0 or 1")
        }
        var features: [Double] = []
        features.reserveCapacity(MLFeatures.count)
        for (k, field) in fields[4...].enumerated() {
            if field.isEmpty {
                features.append(.nan)
            } else if let x = Double(field) {
                features.append(x)
            } else {
                throw FeatureCSVError(line: number, reason: "\(MLFeatures.names[k]) \"\(field)\" is not a number")
            }
        }
        return FeatureCSVRow(
            time: time, market: String(fields[1]), signalType: String(fields[2]), label: fields[3] == "1" ? 1 : 0,
            features: features)
    }
}

extension FeatureCSV {
    /// The market a data file holds, from its name: the base name up to its first '-' or '.'
    /// (the `bedrock sample-data` names: `BTCUSDT-1h.csv` → `BTCUSDT`), used for the `market`
    /// column of the rows made from it.
    public static func market(fromPath path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        let name = base.prefix { $0 != "-" && $0 != "." }
        let cleaned = name.filter { $0 != "," && $0 != "\"" && !$0.isNewline }
        return cleaned.isEmpty ? "UNKNOWN" : String(cleaned)
    }
}
