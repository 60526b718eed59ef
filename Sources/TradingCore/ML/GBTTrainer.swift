import Foundation

/// Bedrock's gradient-boosted-trees trainer: logistic loss, histogram splits (`FeatureBins`,
/// computed once), depth-wise trees (`HistogramTreeGrower`), early stopping on the time-ordered
/// tail of the rows. It writes the same model as xgboost (`TreeEnsemble`), and the margins it
/// trains on are the model's own float32 margins, so its validation losses are those of the
/// model it returns.
public enum GBTTrainer {
    /// Trains a model on `rows` (time order, `MLFeatures.count` columns, labels 0/1).
    ///
    /// With early stopping (`earlyStoppingRounds` > 0 and a non-empty `validationFraction` tail)
    /// the trees grow on the rows before the tail; training stops after `earlyStoppingRounds`
    /// rounds without a lower log loss on the tail and keeps the rounds up to the best one.
    /// Otherwise every row trains. base_score is the training rows' positive rate. Deterministic;
    /// the result does not depend on `threads`.
    /// - Parameter progress: called after each tree (`stage` "tree i of N"); return false to cancel.
    /// - Throws: `TrainingError.cancelled`, or `.invalid` for rows that cannot train a model.
    public static func train(
        _ rows: LabeledRows, hyperparameters p: GBTHyperparameters, threads: Int,
        progress: (TrainingProgress) -> Bool = { _ in true }
    ) throws(TrainingError) -> TreeEnsemble {
        guard rows.features.columns == MLFeatures.count else {
            throw .invalid("rows have \(rows.features.columns) feature columns; a model takes \(MLFeatures.count)")
        }
        let n = rows.count
        let tail = p.earlyStoppingRounds > 0 ? Int(Double(n) * p.validationFraction) : 0
        let trainCount = n - tail
        guard trainCount >= 2 else { throw .invalid("\(n) rows are too few to train a model") }
        let positives = rows.labels[0..<trainCount].reduce(0) { $0 + Int($1) }
        guard positives > 0, positives < trainCount else {
            throw .invalid(
                "the \(trainCount) training rows are all labelled \(positives == 0 ? 0 : 1): a model needs both outcomes")
        }
        let baseScore = Float(Double(positives) / Double(trainCount))
        let baseMargin = TreeEnsemble.logit(baseScore)
        let bins = FeatureBins(rows.features, rows: 0..<trainCount, maxBins: p.maxBins)
        let grower = HistogramTreeGrower(
            bins: bins, codes: bins.codes(rows.features, rows: 0..<trainCount), rows: trainCount, parameters: p,
            threads: threads)
        let validationCodes = bins.codes(rows.features, rows: trainCount..<n)
        var margins = [Float](repeating: baseMargin, count: trainCount)
        var validationMargins = [Float](repeating: baseMargin, count: tail)
        var gradients = [Double](repeating: 0, count: trainCount)
        var hessians = [Double](repeating: 0, count: trainCount)
        var trees: [TreeNodes] = []
        var bestLoss = Double.infinity
        var bestRound = 0
        for round in 0..<p.trees {
            gradientsAndHessians(margins, rows.labels, &gradients, &hessians, threads: threads)
            let tree = grower.grow(gradients: gradients, hessians: hessians, margins: &margins)
            trees.append(tree.nodes)
            if tail > 0 {
                var loss = 0.0
                for i in 0..<tail {
                    validationMargins[i] += tree.leafValue(codes: validationCodes, rows: tail, row: i, missing: bins.missing)
                    let q = min(max(Double(TreeEnsemble.sigmoid(validationMargins[i])), 1e-15), 1 - 1e-15)
                    loss -= rows.labels[trainCount + i] == 1 ? log(q) : log(1 - q)
                }
                if loss < bestLoss {
                    bestLoss = loss
                    bestRound = round
                }
            }
            guard
                progress(
                    TrainingProgress(stage: "tree \(round + 1) of \(p.trees)", fraction: Double(round + 1) / Double(p.trees)))
            else { throw .cancelled }
            if tail > 0 && round - bestRound >= p.earlyStoppingRounds { break }
        }
        if tail > 0 { trees.removeSubrange((bestRound + 1)...) }
        return TreeEnsemble(trees: trees, baseScore: baseScore, featureNames: MLFeatures.names)
    }

    /// The logistic loss's gradient p − y and hessian max(p(1 − p), 1e-16) of each row, p the
    /// model's probability; rows in `threads` contiguous blocks, each row on its own.
    static func gradientsAndHessians(
        _ margins: [Float], _ labels: [UInt8], _ gradients: inout [Double], _ hessians: inout [Double], threads: Int
    ) {
        let n = margins.count
        let blocks = max(1, min(threads, n / 4096))
        margins.withUnsafeBufferPointer { m in
            labels.withUnsafeBufferPointer { y in
                gradients.withUnsafeMutableBufferPointer { g in
                    hessians.withUnsafeMutableBufferPointer { h in
                        // Each block writes only its own rows.
                        nonisolated(unsafe) let (m, y, g, h) = (m, y, g, h)
                        HistogramTreeGrower.parallel(blocks, threads: blocks) { b in
                            for i in (b * n / blocks)..<((b + 1) * n / blocks) {
                                let q = Double(TreeEnsemble.sigmoid(m[i]))
                                g[i] = q - Double(y[i])
                                h[i] = max(q * (1 - q), 1e-16)
                            }
                        }
                    }
                }
            }
        }
    }
}
