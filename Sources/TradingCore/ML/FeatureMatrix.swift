/// A dense row-major matrix of feature values (NaN = missing), one row per example.
public struct FeatureMatrix: Sendable, Equatable {
    /// Number of rows (examples).
    public private(set) var rows: Int
    /// Number of columns (features).
    public let columns: Int
    /// Row-major values: row r, column c is `values[r * columns + c]`.
    public private(set) var values: [Double]

    /// An empty matrix with `columns` columns.
    public init(columns: Int) {
        precondition(columns >= 1, "a feature matrix needs at least one column")
        self.columns = columns; rows = 0; values = []
    }

    /// A matrix from equally long rows.
    public init(columns: Int, rows: [[Double]]) {
        self.init(columns: columns)
        values.reserveCapacity(rows.count * columns)
        for row in rows { append(row) }
    }

    /// Appends one row (`row.count == columns`).
    public mutating func append(_ row: [Double]) {
        precondition(row.count == columns, "row has \(row.count) values, the matrix \(columns) columns")
        values.append(contentsOf: row)
        rows += 1
    }

    /// Value at row `r`, column `c`.
    public subscript(r: Int, c: Int) -> Double { values[r * columns + c] }

    /// Row `r` as an array.
    public func row(_ r: Int) -> [Double] { Array(values[r * columns..<(r + 1) * columns]) }

    /// The rows in `range`, as a new matrix.
    public func slice(_ range: Range<Int>) -> FeatureMatrix {
        var m = FeatureMatrix(columns: columns)
        m.values = Array(values[range.lowerBound * columns..<range.upperBound * columns])
        m.rows = range.count
        return m
    }
}

/// Labelled examples in time order: the training input.
public struct LabeledRows: Sendable, Equatable {
    /// Feature values, one row per example.
    public var features: FeatureMatrix
    /// 1 or 0 per row.
    public var labels: [UInt8]
    /// Time of each row (ms since the epoch, the signal's bar open time), non-decreasing.
    public var times: [Int64]
    /// When each row's label became known (ms; the open time of the bar its trade closed on),
    /// never before its time. A row is fit to train a model tested from time t only when its
    /// label ended before t (`prefix(_:purgedAt:)`). Rows read from a features CSV carry none:
    /// their label ends are their times.
    public var labelEnds: [Int64]

    /// Labelled rows; the arrays must have the same length (`labelEnds` nil: the times).
    public init(features: FeatureMatrix, labels: [UInt8], times: [Int64], labelEnds: [Int64]? = nil) {
        precondition(features.rows == labels.count && labels.count == times.count, "rows, labels and times differ in length")
        precondition(labelEnds.map { $0.count == times.count } ?? true, "label ends and times differ in length")
        self.features = features; self.labels = labels; self.times = times; self.labelEnds = labelEnds ?? times
    }

    /// Number of examples.
    public var count: Int { labels.count }

    /// The examples in `range`.
    public func slice(_ range: Range<Int>) -> LabeledRows {
        LabeledRows(
            features: features.slice(range), labels: Array(labels[range]), times: Array(times[range]),
            labelEnds: Array(labelEnds[range]))
    }

    /// The first `count` examples, less those whose label ended at or after `time` (they have
    /// seen the prices of rows from `time` on: a model trained on them and tested from `time`
    /// would be judged on data it learnt from).
    public func prefix(_ count: Int, purgedAt time: Int64) -> LabeledRows {
        let kept = (0..<count).filter { labelEnds[$0] < time }
        guard kept.count < count else { return slice(0..<count) }
        var matrix = FeatureMatrix(columns: features.columns)
        for r in kept { matrix.append(features.row(r)) }
        return LabeledRows(
            features: matrix, labels: kept.map { labels[$0] }, times: kept.map { times[$0] },
            labelEnds: kept.map { labelEnds[$0] })
    }
}
