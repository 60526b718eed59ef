import Foundation
import JSONCodec

/// Why a model file cannot be used, in one sentence for the user (which field, what was found,
/// what Bedrock needs).
public struct ModelFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason.
    public var message: String
    /// An error with this reason.
    public init(_ message: String) { self.message = message }
    /// The reason.
    public var description: String { message }
}

/// An XGBoost JSON model (gbtree, binary:logistic), evaluated natively with xgboost's own
/// arithmetic: each feature is rounded to `Float`, a split goes left when `value < condition`
/// (both `Float`), a missing (NaN) value takes the node's default direction, the margin starts
/// at logit(base_score) and adds each tree's leaf in tree order in `Float`, and the probability
/// is xgboost's float sigmoid of it. Predictions equal xgboost's `predict` within 1e-6.
///
/// The trees live in flat arrays (structure of arrays, children as absolute indices), so
/// scoring allocates nothing.
public struct TreeEnsemble: SignalScorer {
    /// First node of each tree in the flat arrays, plus the end (`treeCount + 1` entries).
    let treeStart: [Int32]
    /// Absolute index of the left child; -1 at a leaf.
    let leftChild: [Int32]
    /// Absolute index of the right child; -1 at a leaf.
    let rightChild: [Int32]
    /// The feature a node splits on (0 at a leaf).
    let splitFeature: [Int32]
    /// The split condition at an inner node, the leaf value (margin contribution) at a leaf.
    let condition: [Float]
    /// Where a missing value goes at an inner node.
    let defaultLeft: [Bool]
    /// Statistics xgboost keeps per node (written back by `jsonValue()`, unused by scoring).
    let baseWeight: [Float]
    let lossChange: [Float]
    let sumHessian: [Float]
    /// The global bias in probability space, as the file stores it.
    public let baseScore: Float
    /// logit(baseScore), computed as xgboost does (float32).
    let baseMargin: Float
    /// Feature column names stored in the model; nil when it stores none.
    public let featureNames: [String]?
    /// `learner.attributes` (e.g. xgboost's `best_iteration`), kept for `jsonValue()`.
    let attributes: JSONObject
    /// `iteration_indptr`: the first tree of each boosting round, plus the end.
    let iterationStart: [Int]
    /// `num_parallel_tree`: trees per boosting round.
    let treesPerRound: Int

    /// Number of input features (always `MLFeatures.count`).
    public var featureCount: Int { MLFeatures.count }
    /// Number of trees.
    public var treeCount: Int { treeStart.count - 1 }
    /// The learning objective (always `binary:logistic`).
    public var objective: String { "binary:logistic" }

    /// An ensemble from per-tree node arrays (children relative to each tree).
    init(
        trees: [TreeNodes], baseScore: Float, featureNames: [String]?, attributes: JSONObject = JSONObject(),
        iterationStart: [Int]? = nil, treesPerRound: Int = 1
    ) {
        var start: [Int32] = [0]
        var left: [Int32] = []
        var right: [Int32] = []
        var feature: [Int32] = []
        var condition: [Float] = []
        var defaultLeft: [Bool] = []
        var baseWeight: [Float] = []
        var lossChange: [Float] = []
        var sumHessian: [Float] = []
        for tree in trees {
            let offset = Int32(left.count)
            left += tree.left.map { $0 < 0 ? -1 : $0 + offset }
            right += tree.right.map { $0 < 0 ? -1 : $0 + offset }
            feature += tree.feature
            condition += tree.condition
            defaultLeft += tree.defaultLeft
            baseWeight += tree.baseWeight
            lossChange += tree.lossChange
            sumHessian += tree.sumHessian
            start.append(Int32(left.count))
        }
        self.treeStart = start
        self.leftChild = left
        self.rightChild = right
        self.splitFeature = feature
        self.condition = condition
        self.defaultLeft = defaultLeft
        self.baseWeight = baseWeight
        self.lossChange = lossChange
        self.sumHessian = sumHessian
        self.baseScore = baseScore
        self.baseMargin = TreeEnsemble.logit(baseScore)
        self.featureNames = featureNames
        self.attributes = attributes
        self.iterationStart = iterationStart ?? Array(0...trees.count)
        self.treesPerRound = treesPerRound
    }

    /// The probability that the trade wins, for features in `MLFeatures` order (NaN = missing).
    public func probability(_ features: [Double]) -> Double {
        features.withUnsafeBufferPointer { probability($0) }
    }

    /// The probability that the trade wins, for features in `MLFeatures` order (NaN = missing).
    public func probability(_ features: UnsafeBufferPointer<Double>) -> Double {
        Double(TreeEnsemble.sigmoid(margin(features)))
    }

    /// The raw margin (log-odds) in float32: logit(base_score) plus every tree's leaf, in order.
    public func margin(_ features: UnsafeBufferPointer<Double>) -> Float {
        precondition(features.count == MLFeatures.count, "a model takes \(MLFeatures.count) features, got \(features.count)")
        var total = baseMargin
        leftChild.withUnsafeBufferPointer { left in
            rightChild.withUnsafeBufferPointer { right in
                splitFeature.withUnsafeBufferPointer { feature in
                    condition.withUnsafeBufferPointer { condition in
                        defaultLeft.withUnsafeBufferPointer { defaultLeft in
                            for tree in 0..<(treeStart.count - 1) {
                                var node = Int(treeStart[tree])
                                while true {
                                    let l = left[node]
                                    if l < 0 { break }
                                    let x = features[Int(feature[node])]
                                    let goLeft = x.isNaN ? defaultLeft[node] : Float(x) < condition[node]
                                    node = Int(goLeft ? l : right[node])
                                }
                                total += condition[node]
                            }
                        }
                    }
                }
            }
        }
        return total
    }

    /// xgboost's `common::Logit` of a probability clipped to [1e-6, 1 − 1e-6], in float32.
    static func logit(_ p: Float) -> Float {
        let eps: Float = 1e-6
        let x = min(max(p, eps), 1 - eps)
        return -logf(1 / x - 1)
    }

    /// xgboost's `common::Sigmoid`, in float32.
    static func sigmoid(_ x: Float) -> Float {
        let e = expf(min(-x, 88.7))
        return 1 / (e + 1 + 1e-16)
    }
}

/// One tree's nodes as xgboost stores them (children relative to the tree, -1 at a leaf).
struct TreeNodes: Sendable, Equatable {
    var left: [Int32] = []
    var right: [Int32] = []
    var feature: [Int32] = []
    /// Split condition at an inner node, leaf value at a leaf.
    var condition: [Float] = []
    var defaultLeft: [Bool] = []
    var baseWeight: [Float] = []
    var lossChange: [Float] = []
    var sumHessian: [Float] = []

    /// Number of nodes.
    var count: Int { left.count }

    /// Appends a node and returns its index.
    @discardableResult
    mutating func append(
        left l: Int32 = -1, right r: Int32 = -1, feature f: Int32 = 0, condition c: Float, defaultLeft d: Bool = false,
        baseWeight w: Float, lossChange g: Float = 0, sumHessian h: Float
    ) -> Int32 {
        left.append(l); right.append(r); feature.append(f); condition.append(c); defaultLeft.append(d)
        baseWeight.append(w); lossChange.append(g); sumHessian.append(h)
        return Int32(count - 1)
    }

    /// The parent of each node (2147483647 at the root, as xgboost writes it).
    var parents: [Int32] {
        var parent = [Int32](repeating: 2_147_483_647, count: count)
        for n in 0..<count where left[n] >= 0 {
            parent[Int(left[n])] = Int32(n)
            parent[Int(right[n])] = Int32(n)
        }
        return parent
    }
}
