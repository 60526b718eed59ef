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
/// The trees live in flat arrays: every tree's nodes in one array of 12-byte `Node`s, numbered
/// breadth-first so that a node's right child follows its left child, plus xgboost's per-node
/// statistics (only written back) in arrays of their own. A node visit reads one cache line and
/// picks the child without a branch on the direction; scoring allocates nothing.
public struct TreeEnsemble: SignalScorer {
    /// A node as scoring reads it.
    struct Node: Sendable {
        /// Absolute index of the left child (the right one is `left + 1`); -1 at a leaf.
        var left: Int32
        /// The feature an inner node splits on.
        var feature: UInt16
        /// Where a missing value goes at an inner node.
        var defaultLeft: Bool
        /// The split condition at an inner node, the leaf value (margin contribution) at a leaf.
        var value: Float
    }

    /// First node of each tree, plus the end (`treeCount + 1` entries).
    let treeStart: [Int32]
    /// Every tree's nodes, tree after tree.
    let nodes: [Node]
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

    /// An ensemble from per-tree node arrays (children relative to each tree, every node reached
    /// once from the root; nodes no path reaches are dropped).
    init(
        trees: [TreeNodes], baseScore: Float, featureNames: [String]?, attributes: JSONObject = JSONObject(),
        iterationStart: [Int]? = nil, treesPerRound: Int = 1
    ) {
        var start: [Int32] = [0]
        var nodes: [Node] = []
        var baseWeight: [Float] = []
        var lossChange: [Float] = []
        var sumHessian: [Float] = []
        for tree in trees {
            // Breadth-first: the root, then each inner node's two children next to each other.
            let offset = nodes.count
            var order = [0]
            var i = 0
            while i < order.count {
                let n = order[i]
                if tree.left[n] >= 0 { order += [Int(tree.left[n]), Int(tree.right[n])] }
                i += 1
            }
            var next = offset + 1  // where the next pair of children goes
            for n in order {
                let inner = tree.left[n] >= 0
                nodes.append(
                    Node(
                        left: inner ? Int32(next) : -1, feature: inner ? UInt16(tree.feature[n]) : 0,
                        defaultLeft: tree.defaultLeft[n],
                        value: tree.condition[n]))
                if inner { next += 2 }
                baseWeight.append(tree.baseWeight[n])
                lossChange.append(tree.lossChange[n])
                sumHessian.append(tree.sumHessian[n])
            }
            start.append(Int32(nodes.count))
        }
        self.treeStart = start
        self.nodes = nodes
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
        nodes.withUnsafeBufferPointer { nodes in
            treeStart.withUnsafeBufferPointer { roots in
                /// The next node from `n` (a leaf stays where it is).
                @inline(__always) func step(_ n: Int) -> Int {
                    let node = nodes[n]
                    if node.left < 0 { return n }
                    let x = features[Int(node.feature)]
                    let goLeft = x.isNaN ? node.defaultLeft : Float(x) < node.value
                    return Int(node.left) &+ (goLeft ? 0 : 1)
                }
                // Four trees walk side by side (their node loads overlap in memory); their leaves
                // are added in tree order, so the sum is the one of a tree-by-tree walk.
                let count = roots.count - 1
                var tree = 0
                while tree + 4 <= count {
                    var (a, b, c, d) = (Int(roots[tree]), Int(roots[tree + 1]), Int(roots[tree + 2]), Int(roots[tree + 3]))
                    while nodes[a].left >= 0 || nodes[b].left >= 0 || nodes[c].left >= 0 || nodes[d].left >= 0 {
                        (a, b, c, d) = (step(a), step(b), step(c), step(d))
                    }
                    total += nodes[a].value
                    total += nodes[b].value
                    total += nodes[c].value
                    total += nodes[d].value
                    tree += 4
                }
                while tree < count {
                    var n = Int(roots[tree])
                    while nodes[n].left >= 0 { n = step(n) }
                    total += nodes[n].value
                    tree += 1
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
}
