import JSONCodec

/// Reading and writing XGBoost's JSON model format (`Booster.save_model("m.json")`, the schema
/// of xgboost's doc/model.schema): a gbtree booster with the binary:logistic objective, numeric
/// splits only, `MLFeatures.count` features.
extension TreeEnsemble {
    /// Parses the text of an XGBoost JSON model.
    /// - Throws: `ModelFormatError` saying what does not fit (not JSON, another objective or
    ///   booster, other features, categorical splits, a malformed tree).
    public init(jsonText: String) throws(ModelFormatError) {
        let json: JSONValue
        do { json = try JSONCodec.parse(jsonText) } catch { throw ModelFormatError("the model is not valid JSON: \(error)") }
        try self.init(json: json)
    }

    /// Reads a parsed XGBoost JSON model.
    /// - Throws: `ModelFormatError` saying what does not fit.
    public init(json: JSONValue) throws(ModelFormatError) {
        guard let learner = json["learner"]?.objectValue else {
            throw ModelFormatError(
                "not an XGBoost JSON model: no \"learner\" object (save it with Booster.save_model(\"model.json\"))")
        }
        let objective = learner["objective"]?["name"]?.stringValue ?? "(none)"
        guard objective == "binary:logistic" else {
            throw ModelFormatError("objective is \(objective); Bedrock needs binary:logistic (a probability that the trade wins)")
        }
        let booster = learner["gradient_booster"]?["name"]?.stringValue ?? "(none)"
        switch booster {
        case "gbtree": break
        case "dart":
            throw ModelFormatError("booster is dart, whose dropout weights Bedrock does not apply; train with booster gbtree")
        case "gblinear": throw ModelFormatError("booster is gblinear, a linear model without trees; train with booster gbtree")
        default: throw ModelFormatError("booster is \(booster); Bedrock needs gbtree")
        }
        guard let param = learner["learner_model_param"]?.objectValue else {
            throw ModelFormatError("learner.learner_model_param is missing")
        }
        let numFeature = Self.integer(param["num_feature"])
        guard numFeature == MLFeatures.count else {
            throw ModelFormatError(
                "the model has \(numFeature.map(String.init) ?? "no") features (num_feature); Bedrock's features are "
                    + "\(MLFeatures.count): \(MLFeatures.names.joined(separator: ", "))")
        }
        let numClass = Self.integer(param["num_class"]) ?? 0
        guard numClass == 0 else {
            throw ModelFormatError("num_class is \(numClass); Bedrock needs a binary model (num_class 0)")
        }
        let numTarget = Self.integer(param["num_target"]) ?? 1
        guard numTarget == 1 else { throw ModelFormatError("num_target is \(numTarget); Bedrock needs one target") }
        let baseScore = try Self.baseScore(param["base_score"])
        let names = learner["feature_names"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !names.isEmpty && names != MLFeatures.names { throw Self.featureMismatch(names) }

        guard let model = learner["gradient_booster"]?["model"]?.objectValue,
            let treeValues = model["trees"]?.arrayValue
        else { throw ModelFormatError("gradient_booster.model.trees is missing") }
        var trees: [TreeNodes] = []
        trees.reserveCapacity(treeValues.count)
        for (i, value) in treeValues.enumerated() {
            guard let tree = value.objectValue else { throw ModelFormatError("tree \(i) is not an object") }
            trees.append(try Self.tree(tree, index: i))
        }
        if let info = model["tree_info"]?.arrayValue, info.contains(where: { $0.intValue != 0 }) {
            throw ModelFormatError("tree_info assigns trees to several output groups; Bedrock needs a binary model")
        }
        let perRound = Self.integer(model["gbtree_model_param"]?["num_parallel_tree"]) ?? 1
        var rounds = model["iteration_indptr"]?.arrayValue?.compactMap { $0.intValue.map(Int.init) }
        if let r = rounds, r.first != 0 || r.last != trees.count || zip(r, r.dropFirst()).contains(where: { $0 > $1 }) {
            rounds = nil
        }
        self.init(
            trees: trees, baseScore: baseScore, featureNames: names.isEmpty ? nil : names,
            attributes: learner["attributes"]?.objectValue ?? JSONObject(), iterationStart: rounds,
            treesPerRound: max(1, perRound))
    }

    /// The model in XGBoost's JSON format (version 3.2 layout: base_score as a one-element
    /// vector); `xgboost.Booster().load_model()` loads it and predicts what `probability` does.
    public func jsonValue() -> JSONValue {
        var trees: [JSONValue] = []
        trees.reserveCapacity(treeCount)
        for t in 0..<treeCount { trees.append(treeJSON(t)) }
        let names = featureNames ?? []
        let model: JSONValue = .object([
            ("cats", ["enc": [], "feature_segments": [], "sorted_idx": []]),
            (
                "gbtree_model_param",
                ["num_parallel_tree": .string(String(treesPerRound)), "num_trees": .string(String(treeCount))]
            ),
            ("iteration_indptr", .array(iterationStart.map { .int(Int64($0)) })),
            ("tree_info", .array([JSONValue](repeating: 0, count: treeCount))),
            ("trees", .array(trees)),
        ])
        let learner: JSONValue = .object([
            ("attributes", .object(attributes)),
            ("feature_names", .array(names.map(JSONValue.string))),
            ("feature_types", .array(names.map { _ in "float" })),
            ("gradient_booster", .object([("model", model), ("name", "gbtree")])),
            (
                "learner_model_param",
                .object([
                    ("base_score", .string("[\(baseScore)]")), ("boost_from_average", "1"), ("num_class", "0"),
                    ("num_feature", .string(String(MLFeatures.count))), ("num_target", "1"),
                ])
            ),
            ("objective", ["name": "binary:logistic", "reg_loss_param": ["scale_pos_weight": "1"]]),
        ])
        return .object([("learner", learner), ("version", [3, 2, 0])])
    }

    /// Tree `t` in xgboost's layout.
    private func treeJSON(_ t: Int) -> JSONValue {
        let range = Int(treeStart[t])..<Int(treeStart[t + 1])
        let tree = nodes[range]
        let offset = Int64(range.lowerBound)
        func floats(_ a: [Float]) -> JSONValue { .array(a[range].map { .double(Double($0)) }) }
        var parent = [Int64](repeating: 2_147_483_647, count: range.count)
        for (n, node) in zip(range, tree) where node.left >= 0 {
            parent[Int(Int64(node.left) - offset)] = Int64(n) - offset
            parent[Int(Int64(node.left) - offset) + 1] = Int64(n) - offset
        }
        return .object([
            ("base_weights", floats(baseWeight)),
            ("categories", []), ("categories_nodes", []), ("categories_segments", []), ("categories_sizes", []),
            ("default_left", .array(tree.map { .int($0.defaultLeft ? 1 : 0) })),
            ("id", .int(Int64(t))),
            ("left_children", .array(tree.map { .int($0.left < 0 ? -1 : Int64($0.left) - offset) })),
            ("loss_changes", floats(lossChange)),
            ("parents", .array(parent.map(JSONValue.int))),
            ("right_children", .array(tree.map { .int($0.left < 0 ? -1 : Int64($0.left) - offset + 1) })),
            ("split_conditions", .array(tree.map { .double(Double($0.value)) })),
            ("split_indices", .array(tree.map { .int(Int64($0.feature)) })),
            ("split_type", .array([JSONValue](repeating: 0, count: range.count))),
            ("sum_hessian", floats(sumHessian)),
            (
                "tree_param",
                .object([
                    ("num_deleted", "0"), ("num_feature", .string(String(MLFeatures.count))),
                    ("num_nodes", .string(String(range.count))), ("size_leaf_vector", "1"),
                ])
            ),
        ])
    }

    // MARK: - Reading helpers

    /// A count xgboost writes as a string ("15") or, in old files, as a number.
    private static func integer(_ value: JSONValue?) -> Int? {
        if let s = value?.stringValue { return Int(s) }
        return value?.intValue.map(Int.init)
    }

    /// base_score: "5E-1" (xgboost 2.x) or "[5E-1]" (3.x, a vector), in probability space.
    private static func baseScore(_ value: JSONValue?) throws(ModelFormatError) -> Float {
        var text = value?.stringValue ?? value?.doubleValue.map { String($0) } ?? ""
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        guard let p = Float(text.trimmingSpaces), p > 0, p < 1 else {
            throw ModelFormatError(
                "base_score \(value.map { JSONCodec.encodeString($0) } ?? "(missing)") is not one probability in (0, 1)")
        }
        return p
    }

    private static func featureMismatch(_ names: [String]) -> ModelFormatError {
        guard names.count == MLFeatures.count else {
            return ModelFormatError("feature_names has \(names.count) names; Bedrock's features are \(MLFeatures.count)")
        }
        let differences = zip(names, MLFeatures.names).enumerated().filter { $0.element.0 != $0.element.1 }
        let listed = differences.prefix(5).map { "column \($0.offset) is \"\($0.element.0)\", expected \"\($0.element.1)\"" }
        let more = differences.count > 5 ? " (and \(differences.count - 5) more)" : ""
        return ModelFormatError(
            "feature_names differ from Bedrock's features (docs/ML_FEATURES.md): \(listed.joined(separator: "; "))\(more)")
    }

    /// One tree, checked: equal array lengths, children and features in range, numeric splits,
    /// every node reached from the root at most once (no cycles).
    private static func tree(_ tree: JSONObject, index i: Int) throws(ModelFormatError) -> TreeNodes {
        func ints(_ key: String) throws(ModelFormatError) -> [Int32] {
            guard let a = tree[key]?.arrayValue else { throw ModelFormatError("tree \(i): \(key) is missing") }
            var out: [Int32] = []
            out.reserveCapacity(a.count)
            for v in a {
                if let b = v.boolValue { out.append(b ? 1 : 0); continue }
                guard let n = v.intValue, n >= Int64(Int32.min), n <= Int64(Int32.max) else {
                    throw ModelFormatError("tree \(i): \(key) holds a non-integer")
                }
                out.append(Int32(n))
            }
            return out
        }
        func floats(_ key: String, required: Bool) throws(ModelFormatError) -> [Float]? {
            guard let a = tree[key]?.arrayValue else {
                if required { throw ModelFormatError("tree \(i): \(key) is missing") }
                return nil
            }
            var out: [Float] = []
            out.reserveCapacity(a.count)
            for v in a {
                guard let d = v.doubleValue else { throw ModelFormatError("tree \(i): \(key) holds a non-number") }
                out.append(Float(d))
            }
            return out
        }
        var nodes = TreeNodes()
        nodes.left = try ints("left_children")
        nodes.right = try ints("right_children")
        nodes.feature = try ints("split_indices")
        nodes.condition = try floats("split_conditions", required: true)!
        nodes.defaultLeft = try ints("default_left").map { $0 != 0 }
        let n = nodes.left.count
        nodes.baseWeight = try floats("base_weights", required: false) ?? [Float](repeating: 0, count: n)
        nodes.lossChange = try floats("loss_changes", required: false) ?? [Float](repeating: 0, count: n)
        nodes.sumHessian = try floats("sum_hessian", required: false) ?? [Float](repeating: 0, count: n)
        let splitType = tree["split_type"] != nil ? try ints("split_type") : [Int32](repeating: 0, count: n)
        let lengths = [
            nodes.right.count, nodes.feature.count, nodes.condition.count, nodes.defaultLeft.count, nodes.baseWeight.count,
            nodes.lossChange.count, nodes.sumHessian.count, splitType.count,
        ]
        guard n > 0, lengths.allSatisfy({ $0 == n }) else { throw ModelFormatError("tree \(i): node arrays differ in length") }
        if splitType.contains(where: { $0 != 0 }) || !(tree["categories_nodes"]?.arrayValue?.isEmpty ?? true) {
            throw ModelFormatError(
                "tree \(i) has categorical splits; Bedrock's features are numeric (train without enable_categorical)")
        }
        var seen = [Bool](repeating: false, count: n)
        var stack: [Int] = [0]
        while let node = stack.popLast() {
            guard !seen[node] else { throw ModelFormatError("tree \(i): node \(node) is reached twice (a cycle)") }
            seen[node] = true
            let l = Int(nodes.left[node])
            let r = Int(nodes.right[node])
            if l == -1 { continue }
            guard (0..<n).contains(l), (0..<n).contains(r) else {
                throw ModelFormatError("tree \(i): node \(node) has a child out of range")
            }
            guard (0..<MLFeatures.count).contains(Int(nodes.feature[node])) else {
                throw ModelFormatError("tree \(i): node \(node) splits on feature \(nodes.feature[node]), out of range")
            }
            stack.append(l)
            stack.append(r)
        }
        return nodes
    }
}

extension String {
    /// The text without leading and trailing spaces.
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
