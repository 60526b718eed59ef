import Dispatch

/// Grows one regression tree on per-row gradients and hessians (logistic loss), depth-wise, by
/// histogram splits over `FeatureBins`, xgboost's "hist" method in miniature:
/// gain = ½[G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)], leaf weight −G/(H+λ) × eta, each split
/// trying missing values on both sides. A level's histograms are built for the smaller child of
/// each pair and subtracted from the parent's for the other.
///
/// The feature loop runs on `threads` threads; each feature's histogram and best split are
/// computed by one thread over rows in ascending order, and the best split is chosen by gain,
/// then lowest feature, then lowest bin, so the tree does not depend on the thread count.
///
/// Owns its buffers (allocated once per training run, freed in `deinit`); used by one training
/// run on its calling thread, whose worker threads only write disjoint slices of them.
final class HistogramTreeGrower {
    private let bins: FeatureBins
    private let rows: Int
    private let features: Int
    private let stride: Int
    private let parameters: GBTHyperparameters
    private let threads: Int
    /// Bin codes, feature-major (`f * rows + row`).
    private let codes: UnsafeMutableBufferPointer<UInt16>
    /// Row indices grouped by node: each node owns one contiguous range.
    private let order: UnsafeMutableBufferPointer<Int32>
    private let scratch: UnsafeMutableBufferPointer<Int32>
    /// (gradient, hessian) histograms of the current and previous level: slot s, feature f, bin
    /// b at `2 * ((s * features + f) * stride + b)`.
    private var current: UnsafeMutableBufferPointer<Double>
    private var previous: UnsafeMutableBufferPointer<Double>
    /// The best split of each (node slot, feature) of a level.
    private let candidates: UnsafeMutableBufferPointer<Split>

    /// A grower for the rows coded in `codes` (from `bins`).
    init(bins: FeatureBins, codes: [UInt16], rows: Int, parameters: GBTHyperparameters, threads: Int) {
        self.bins = bins
        self.rows = rows
        self.features = bins.cuts.count
        self.stride = bins.stride
        self.parameters = parameters
        self.threads = max(1, min(threads, features))
        self.codes = .allocate(capacity: codes.count)
        _ = self.codes.initialize(from: codes)
        order = .allocate(capacity: rows)
        scratch = .allocate(capacity: rows)
        let width = 1 << (parameters.depth - 1)  // most nodes on a level that is split
        current = .allocate(capacity: 2 * width * features * stride)
        previous = .allocate(capacity: 2 * width * features * stride)
        candidates = .allocate(capacity: width * features)
    }

    deinit {
        codes.deallocate(); order.deallocate(); scratch.deallocate()
        current.deallocate(); previous.deallocate(); candidates.deallocate()
    }

    /// A split candidate: split after `bin` (left: bins ≤ bin, missing left when `defaultLeft`).
    struct Split {
        var gain = 0.0
        var bin: Int32 = -1
        var defaultLeft = false
        var leftG = 0.0
        var leftH = 0.0
    }

    /// A node being grown: its index in the tree, its rows `order[begin..<end]` and sums.
    private struct Node {
        var index: Int32
        var begin: Int
        var end: Int
        var g: Double
        var h: Double
        /// The parent's histogram slot on the previous level (-1 at the root).
        var parentSlot = -1
    }

    /// A grown tree and, per node, the bin its split is after (-1 at leaves).
    struct Grown {
        var nodes = TreeNodes()
        var splitBin: [Int32] = []

        /// The leaf value for row `i` of coded rows (`codes` feature-major over `rows` rows).
        func leafValue(codes: [UInt16], rows: Int, row i: Int, missing: UInt16) -> Float {
            var node = 0
            while nodes.left[node] >= 0 {
                let c = codes[Int(nodes.feature[node]) * rows + i]
                let goLeft = c == missing ? nodes.defaultLeft[node] : Int32(c) <= splitBin[node]
                node = Int(goLeft ? nodes.left[node] : nodes.right[node])
            }
            return nodes.condition[node]
        }
    }

    /// Grows a tree on `gradients`/`hessians` and adds its leaf values to `margins`.
    func grow(gradients: [Double], hessians: [Double], margins: inout [Float]) -> Grown {
        var tree = Grown()
        var g = 0.0
        var h = 0.0
        for i in 0..<rows {
            order[i] = Int32(i)
            g += gradients[i]
            h += hessians[i]
        }
        let rootWeight = weight(g, h)
        tree.nodes.append(condition: rootWeight, baseWeight: rootWeight, sumHessian: Float(h))
        tree.splitBin.append(-1)
        var level = [Node(index: 0, begin: 0, end: rows, g: g, h: h)]
        gradients.withUnsafeBufferPointer { gp in
            hessians.withUnsafeBufferPointer { hp in
                for _ in 0..<parameters.depth {
                    buildHistograms(level, gradients: gp, hessians: hp)
                    findSplits(level)
                    let chosen = level.indices.map { chooseSplit(slot: $0) }
                    let leftEnds = partition(level, chosen)
                    var next: [Node] = []
                    for (slot, node) in level.enumerated() {
                        if let (feature, split) = chosen[slot] {
                            let (left, right) = addChildren(
                                node, slot: slot, feature: feature, split: split, leftEnd: leftEnds[slot], tree: &tree)
                            next.append(left)
                            next.append(right)
                        } else {
                            addLeaf(node, tree: tree, to: &margins)
                        }
                    }
                    swap(&current, &previous)
                    level = next
                    if level.isEmpty { break }
                }
            }
        }
        for node in level { addLeaf(node, tree: tree, to: &margins) }
        return tree
    }

    /// −G/(H+λ) × eta, as the Float the model stores.
    private func weight(_ g: Double, _ h: Double) -> Float {
        Float(-g / (h + parameters.lambda) * parameters.learningRate)
    }

    private func addLeaf(_ node: Node, tree: Grown, to margins: inout [Float]) {
        let value = tree.nodes.condition[Int(node.index)]
        for i in node.begin..<node.end { margins[Int(order[i])] += value }
    }

    /// Runs `body(f)` for every feature, features dealt round-robin to the threads.
    /// The closures write only their own feature's slices of the buffers, which is why they may
    /// capture the buffers' pointers (`nonisolated(unsafe)`).
    private func forEachFeature(_ body: @Sendable (Int) -> Void) {
        HistogramTreeGrower.parallel(features, threads: threads, body)
    }

    /// `body(i)` for every i in 0..<count, dealt round-robin to `threads` threads (on the
    /// calling thread alone when `threads` is 1).
    static func parallel(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        let threads = max(1, min(threads, count))
        if threads == 1 {
            for i in 0..<count { body(i) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var i = t
            while i < count {
                body(i)
                i += threads
            }
        }
    }

    /// Histograms of every node of `level` into `current` (slot = position in the level): the
    /// root directly; for each pair of siblings the smaller from its rows, the other as the
    /// parent's (in `previous`) minus it.
    private func buildHistograms(
        _ level: [Node], gradients: UnsafeBufferPointer<Double>, hessians: UnsafeBufferPointer<Double>
    ) {
        nonisolated(unsafe) let (cur, prev, codes, order) = (current, previous, codes, order)
        nonisolated(unsafe) let (gradients, hessians) = (gradients, hessians)
        let (features, stride, rows) = (features, stride, rows)
        forEachFeature { f in
            let column = codes.baseAddress! + f * rows
            func fill(_ node: Node, slot: Int) {
                let hist = cur.baseAddress! + 2 * ((slot * features + f) * stride)
                hist.update(repeating: 0, count: 2 * stride)
                for i in node.begin..<node.end {
                    let r = Int(order[i])
                    let b = 2 * Int(column[r])
                    hist[b] += gradients[r]
                    hist[b + 1] += hessians[r]
                }
            }
            if level.count == 1 && level[0].index == 0 {
                fill(level[0], slot: 0)
                return
            }
            for pair in 0..<(level.count / 2) {
                let (a, b) = (2 * pair, 2 * pair + 1)
                let small = level[a].end - level[a].begin <= level[b].end - level[b].begin ? a : b
                let large = small == a ? b : a
                fill(level[small], slot: small)
                let parent = prev.baseAddress! + 2 * ((level[a].parentSlot * features + f) * stride)
                let smallHist = cur.baseAddress! + 2 * ((small * features + f) * stride)
                let largeHist = cur.baseAddress! + 2 * ((large * features + f) * stride)
                for k in 0..<(2 * stride) { largeHist[k] = parent[k] - smallHist[k] }
            }
        }
    }

    /// The best split of each (node, feature) of `level` into `candidates`.
    private func findSplits(_ level: [Node]) {
        nonisolated(unsafe) let (cur, candidates) = (current, candidates)
        let (features, stride, lambda) = (features, stride, parameters.lambda)
        let minChild = max(parameters.minChildWeight, 1e-10)
        let cuts = bins.cuts
        forEachFeature { f in
            let binCount = cuts[f].count + 1
            for (slot, node) in level.enumerated() {
                let hist = cur.baseAddress! + 2 * ((slot * features + f) * stride)
                let missingG = hist[2 * (stride - 1)]
                let missingH = hist[2 * (stride - 1) + 1]
                let parentScore = node.g * node.g / (node.h + lambda)
                var best = Split()
                func consider(_ lg: Double, _ lh: Double, bin j: Int, defaultLeft: Bool) {
                    let rg = node.g - lg
                    let rh = node.h - lh
                    guard lh >= minChild, rh >= minChild else { return }
                    let gain = 0.5 * (lg * lg / (lh + lambda) + rg * rg / (rh + lambda) - parentScore)
                    if gain > best.gain {
                        best = Split(gain: gain, bin: Int32(j), defaultLeft: defaultLeft, leftG: lg, leftH: lh)
                    }
                }
                var gl = 0.0
                var hl = 0.0
                for j in 0..<(binCount - 1) {
                    gl += hist[2 * j]
                    hl += hist[2 * j + 1]
                    // Missing values right, then (when there are any) left.
                    consider(gl, hl, bin: j, defaultLeft: false)
                    if missingH > 0 { consider(gl + missingG, hl + missingH, bin: j, defaultLeft: true) }
                }
                candidates[slot * features + f] = best
            }
        }
    }

    /// The best candidate of the node in `slot` (gain > 1e-12; ties: the lowest feature), nil
    /// when no split gains.
    private func chooseSplit(slot: Int) -> (Int, Split)? {
        var best = Split()
        var feature = -1
        for f in 0..<features {
            let c = candidates[slot * features + f]
            if c.bin >= 0 && c.gain > best.gain {
                best = c
                feature = f
            }
        }
        guard feature >= 0, best.gain > 1e-12 else { return nil }
        return (feature, best)
    }

    /// Stably partitions the rows of each node that splits (left rows, then right rows, each in
    /// ascending order), nodes spread over the threads; returns where each node's left rows end.
    /// Each node moves only its own range of `order` and `scratch`.
    private func partition(_ level: [Node], _ chosen: [(Int, Split)?]) -> [Int] {
        let ends = UnsafeMutableBufferPointer<Int>.allocate(capacity: level.count)
        defer { ends.deallocate() }
        nonisolated(unsafe) let (order, scratch, codes, out) = (order, scratch, codes, ends)
        let (rows, missing) = (rows, bins.missing)
        HistogramTreeGrower.parallel(level.count, threads: threads) { slot in
            let node = level[slot]
            guard let (feature, split) = chosen[slot] else { return }
            let column = codes.baseAddress! + feature * rows
            var leftEnd = node.begin
            var right = node.begin
            for i in node.begin..<node.end {
                let r = order[i]
                let c = column[Int(r)]
                if c == missing ? split.defaultLeft : Int32(c) <= split.bin {
                    order[leftEnd] = r
                    leftEnd += 1
                } else {
                    scratch[right] = r
                    right += 1
                }
            }
            for k in 0..<(right - node.begin) { order[leftEnd + k] = scratch[node.begin + k] }
            out[slot] = leftEnd
        }
        return Array(ends)
    }

    /// Makes `node` an inner node splitting on `feature` and appends its two children to the
    /// tree as leaves; returns them (rows `begin..<leftEnd` and `leftEnd..<end`).
    private func addChildren(_ node: Node, slot: Int, feature: Int, split best: Split, leftEnd: Int, tree: inout Grown)
        -> (Node, Node)
    {
        let (lg, lh) = (best.leftG, best.leftH)
        let (rg, rh) = (node.g - lg, node.h - lh)
        let leftWeight = weight(lg, lh)
        let rightWeight = weight(rg, rh)
        let l = tree.nodes.append(condition: leftWeight, baseWeight: leftWeight, sumHessian: Float(lh))
        let r = tree.nodes.append(condition: rightWeight, baseWeight: rightWeight, sumHessian: Float(rh))
        tree.splitBin += [-1, -1]
        let n = Int(node.index)
        tree.nodes.left[n] = l
        tree.nodes.right[n] = r
        tree.nodes.feature[n] = Int32(feature)
        tree.nodes.condition[n] = bins.cuts[feature][Int(best.bin)]
        tree.nodes.defaultLeft[n] = best.defaultLeft
        tree.nodes.lossChange[n] = Float(best.gain)
        tree.splitBin[n] = best.bin
        return (
            Node(index: l, begin: node.begin, end: leftEnd, g: lg, h: lh, parentSlot: slot),
            Node(index: r, begin: leftEnd, end: node.end, g: rg, h: rh, parentSlot: slot)
        )
    }
}
