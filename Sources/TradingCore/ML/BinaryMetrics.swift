import Foundation
import JSONCodec

/// Quality of probabilities for a binary label (SPEC §11): the classification at `threshold`
/// (accuracy, precision, recall, f1), the ranking (AUC) and the calibration (log loss).
public struct BinaryMetrics: Sendable, Equatable {
    /// Number of examples.
    public var count: Int
    /// Examples labelled 1.
    public var positives: Int
    /// Share of examples classified right (probability ≥ threshold means 1).
    public var accuracy: Double
    /// True positives / predicted positives; 0 when nothing is predicted positive.
    public var precision: Double
    /// True positives / actual positives; 0 when there are none.
    public var recall: Double
    /// Harmonic mean of precision and recall; 0 when both are 0.
    public var f1: Double
    /// Area under the ROC curve (Mann–Whitney, ties count one half); nil with one class only.
    public var auc: Double?
    /// Mean negative log-likelihood, probabilities clipped to [1e-15, 1 − 1e-15]; 0 with no examples.
    public var logLoss: Double

    /// The metrics of `probabilities` against `labels` (0/1, same length).
    public static func evaluate(labels: [UInt8], probabilities: [Double], threshold: Double = 0.5) -> BinaryMetrics {
        precondition(labels.count == probabilities.count, "labels and probabilities differ in length")
        let n = labels.count
        var tp = 0
        var fp = 0
        var tn = 0
        var loss = 0.0
        for (y, p) in zip(labels, probabilities) {
            let predicted = p >= threshold
            if y == 1 { if predicted { tp += 1 } } else if predicted { fp += 1 } else { tn += 1 }
            let q = min(max(p, 1e-15), 1 - 1e-15)
            loss -= y == 1 ? log(q) : log(1 - q)
        }
        let positives = labels.reduce(0) { $0 + Int($1) }
        let precision = tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp)
        let recall = positives == 0 ? 0 : Double(tp) / Double(positives)
        return BinaryMetrics(
            count: n, positives: positives, accuracy: n == 0 ? 0 : Double(tp + tn) / Double(n), precision: precision,
            recall: recall, f1: precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
            auc: auc(labels: labels, probabilities: probabilities, positives: positives),
            logLoss: n == 0 ? 0 : loss / Double(n))
    }

    /// Mann–Whitney U / (positives × negatives), tied probabilities sharing their mean rank.
    static func auc(labels: [UInt8], probabilities: [Double], positives: Int) -> Double? {
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = probabilities.indices.sorted { probabilities[$0] < probabilities[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && probabilities[order[j + 1]] == probabilities[order[i]] { j += 1 }
            let meanRank = Double(i + j + 2) / 2  // ranks are 1-based: i+1 … j+1
            for k in i...j where labels[order[k]] == 1 { rankSum += meanRank }
            i = j + 1
        }
        let u = rankSum - Double(positives) * Double(positives + 1) / 2
        return u / (Double(positives) * Double(negatives))
    }

    /// `{"count","positives","accuracy","precision","recall","f1","auc","log_loss"}` (auc null
    /// with one class).
    public var jsonValue: JSONValue {
        .object([
            ("count", .int(Int64(count))), ("positives", .int(Int64(positives))), ("accuracy", .plain(accuracy)),
            ("precision", .plain(precision)), ("recall", .plain(recall)), ("f1", .plain(f1)), ("auc", .plain(auc)),
            ("log_loss", .plain(logLoss)),
        ])
    }
}
