import Foundation
import JSONCodec
import XCTest

@testable import TradingCore

/// The XGBoost JSON evaluator on hand-built trees: xgboost's float32 comparisons, missing values,
/// base_score spellings, the refusals and the round trip through `jsonValue()`.
final class TreeEnsembleTests: XCTestCase {
    /// One stump as xgboost writes it: root splits `feature` at `threshold`, leaves `left`/`right`.
    static func stump(feature: Int, threshold: Double, left: Double, right: Double, defaultLeft: Bool) -> JSONValue {
        [
            "base_weights": [0, .double(left), .double(right)], "default_left": [defaultLeft ? 1 : 0, 0, 0], "id": 0,
            "left_children": [1, -1, -1], "right_children": [2, -1, -1], "loss_changes": [1, 0, 0],
            "parents": [2_147_483_647, 0, 0], "split_conditions": [.double(threshold), .double(left), .double(right)],
            "split_indices": [.int(Int64(feature)), 0, 0], "split_type": [0, 0, 0], "sum_hessian": [2, 1, 1],
            "categories": [], "categories_nodes": [], "categories_segments": [], "categories_sizes": [],
            "tree_param": ["num_deleted": "0", "num_feature": "15", "num_nodes": "3", "size_leaf_vector": "1"],
        ]
    }

    /// A whole model around `trees`; `edit` changes the learner object before it is wrapped.
    static func model(
        trees: [JSONValue], baseScore: String = "[5E-1]", objective: String = "binary:logistic", booster: String = "gbtree",
        numFeature: String = "15", featureNames: [String] = [], edit: (inout [(String, JSONValue)]) -> Void = { _ in }
    ) -> JSONValue {
        var learner: [(String, JSONValue)] = [
            ("attributes", [:]), ("feature_names", .array(featureNames.map(JSONValue.string))),
            ("feature_types", .array(featureNames.map { _ in "float" })),
            (
                "gradient_booster",
                [
                    "model": [
                        "gbtree_model_param": ["num_parallel_tree": "1", "num_trees": .string(String(trees.count))],
                        "iteration_indptr": .array((0...trees.count).map { .int(Int64($0)) }),
                        "tree_info": .array(trees.map { _ in 0 }), "trees": .array(trees),
                    ],
                    "name": .string(booster),
                ]
            ),
            (
                "learner_model_param",
                [
                    "base_score": .string(baseScore), "boost_from_average": "1", "num_class": "0",
                    "num_feature": .string(numFeature), "num_target": "1",
                ]
            ),
            ("objective", ["name": .string(objective), "reg_loss_param": ["scale_pos_weight": "1"]]),
        ]
        edit(&learner)
        return ["learner": .object(learner), "version": [3, 2, 0]]
    }

    static func features(_ set: [Int: Double]) -> [Double] {
        var x = [Double](repeating: 0, count: MLFeatures.count)
        for (i, v) in set { x[i] = v }
        return x
    }

    /// xgboost's float pipeline for a margin: logit(base) + leaves in Float, float sigmoid.
    static func expected(base: Float, leaves: [Float]) -> Double {
        var m = -logf(1 / base - 1)
        for l in leaves { m += l }
        return Double(1 / (expf(-m) + 1))
    }

    func testMissingValuesFollowEachNodesDefaultDirection() throws {
        let model = try TreeEnsemble(
            json: Self.model(trees: [
                Self.stump(feature: 0, threshold: 0.5, left: 0.3, right: -0.2, defaultLeft: true),
                Self.stump(feature: 3, threshold: 1.0, left: 0.1, right: 0.7, defaultLeft: false),
            ]))
        XCTAssertEqual(model.treeCount, 2)
        XCTAssertNil(model.featureNames)
        // Both missing: tree 0 goes left (0.3), tree 1 goes right (0.7).
        let missing = Self.features([0: .nan, 3: .nan])
        XCTAssertEqual(model.probability(missing), Self.expected(base: 0.5, leaves: [0.3, 0.7]))
        // Present values: 0.9 ≥ 0.5 → right (−0.2); 0.2 < 1 → left (0.1).
        let present = Self.features([0: 0.9, 3: 0.2])
        XCTAssertEqual(model.probability(present), Self.expected(base: 0.5, leaves: [-0.2, 0.1]))
        XCTAssertNotEqual(model.probability(missing), model.probability(present))
    }

    func testTreesWalkedFourAtATimeAddUpInTreeOrder() throws {
        // Six trees (four side by side, then two alone) of depths 0 and 1; leaves of very
        // different sizes, so the float32 sum depends on the order.
        let leaf: JSONValue = [
            "left_children": [-1], "right_children": [-1], "split_indices": [0], "split_conditions": [1e-3],
            "default_left": [0], "split_type": [0],
        ]
        let trees = [
            Self.stump(feature: 0, threshold: 0.5, left: 1e4, right: -1e4, defaultLeft: true), leaf,
            Self.stump(feature: 1, threshold: 0.5, left: -1e4, right: 1e4, defaultLeft: false),
            Self.stump(feature: 2, threshold: 0.5, left: 3e-4, right: 7e-4, defaultLeft: true), leaf,
            Self.stump(feature: 3, threshold: 0.5, left: 0.25, right: -0.25, defaultLeft: true),
        ]
        let model = try TreeEnsemble(json: Self.model(trees: trees))
        let x = Self.features([0: 0.1, 1: 0.9, 2: .nan, 3: 0.7])
        let leaves: [Float] = [1e4, 1e-3, 1e4, 3e-4, 1e-3, -0.25]
        var margin = -logf(1 / Float(0.5) - 1)
        for l in leaves { margin += l }
        XCTAssertEqual(x.withUnsafeBufferPointer { model.margin($0) }, margin)
        XCTAssertEqual(model.probability(x), Self.expected(base: 0.5, leaves: leaves))
    }

    func testChildrenInAnyOrderAndUnreachableNodes() throws {
        // As a pruned xgboost tree may be laid out: the left child after the right one, and a
        // deleted node (2) that no path reaches.
        let tree: JSONValue = [
            "left_children": [3, -1, -1, -1], "right_children": [1, -1, -1, -1], "split_indices": [7, 0, 0, 0],
            "split_conditions": [2.5, -0.4, 9, 0.6], "default_left": [0, 0, 0, 0], "split_type": [0, 0, 0, 0],
        ]
        let model = try TreeEnsemble(json: Self.model(trees: [tree]))
        XCTAssertEqual(model.probability(Self.features([7: 1])), Self.expected(base: 0.5, leaves: [0.6]))
        XCTAssertEqual(model.probability(Self.features([7: 3])), Self.expected(base: 0.5, leaves: [-0.4]))
        XCTAssertEqual(model.probability(Self.features([7: .nan])), Self.expected(base: 0.5, leaves: [-0.4]))
        let written = model.jsonValue()["learner"]?["gradient_booster"]?["model"]?["trees"]?.arrayValue?[0]
        XCTAssertEqual(written?["left_children"], [1, -1, -1])
        XCTAssertEqual(written?["right_children"], [2, -1, -1])
        XCTAssertEqual(written?["split_conditions"], [2.5, .double(Double(Float(0.6))), .double(Double(Float(-0.4)))])
        XCTAssertEqual(written?["parents"], [2_147_483_647, 0, 0])
    }

    func testComparisonsAreInFloat32() throws {
        let threshold = Float(0.1)  // 0.100000001490116…, above the Double 0.1
        let model = try TreeEnsemble(
            json: Self.model(trees: [Self.stump(feature: 2, threshold: Double(threshold), left: -1, right: 1, defaultLeft: true)])
        )
        let right = Self.expected(base: 0.5, leaves: [1])
        let left = Self.expected(base: 0.5, leaves: [-1])
        // The Double 0.1 is below the threshold, but as a Float it equals it: not less → right.
        XCTAssertLessThan(0.1, Double(threshold))
        XCTAssertEqual(model.probability(Self.features([2: 0.1])), right)
        // Just below the threshold in Double, still the same Float → right.
        XCTAssertEqual(model.probability(Self.features([2: Double(threshold) - 1e-12])), right)
        // Just above in Double → right as well.
        XCTAssertEqual(model.probability(Self.features([2: Double(threshold) + 1e-12])), right)
        // The Float just below → left.
        XCTAssertEqual(model.probability(Self.features([2: Double(threshold.nextDown)])), left)
        // A value too large for Float becomes +inf and goes right; −inf goes left.
        XCTAssertEqual(model.probability(Self.features([2: 1e300])), right)
        XCTAssertEqual(model.probability(Self.features([2: -.infinity])), left)
    }

    func testBaseScoreInBothSpellings() throws {
        for text in ["2.5E-1", "[2.5E-1]", "[0.25]"] {
            let model = try TreeEnsemble(json: Self.model(trees: [], baseScore: text))
            XCTAssertEqual(model.baseScore, 0.25, text)
            XCTAssertEqual(model.probability(Self.features([:])), 0.25, accuracy: 1e-7, text)
        }
        let stumped = try TreeEnsemble(
            json: Self.model(
                trees: [Self.stump(feature: 0, threshold: 0, left: 0.4, right: 0.4, defaultLeft: true)], baseScore: "7E-1"))
        XCTAssertEqual(stumped.probability(Self.features([:])), Self.expected(base: 0.7, leaves: [0.4]))
        for bad in ["[5E-1,5E-1]", "0", "1.5", "x"] {
            XCTAssertThrowsError(try TreeEnsemble(json: Self.model(trees: [], baseScore: bad))) {
                XCTAssertTrue(String(describing: $0).contains("base_score"), "\($0)")
            }
        }
    }

    func testRefusalsSayWhy() {
        let tree = Self.stump(feature: 0, threshold: 0.5, left: 0.3, right: -0.2, defaultLeft: true)
        func message(_ json: JSONValue) -> String {
            do {
                _ = try TreeEnsemble(json: json)
                return "accepted"
            } catch { return error.message }
        }
        XCTAssertEqual(
            message(Self.model(trees: [tree], objective: "reg:squarederror")),
            "objective is reg:squarederror; Bedrock needs binary:logistic (a probability that the trade wins)")
        XCTAssertTrue(message(Self.model(trees: [tree], booster: "dart")).hasPrefix("booster is dart"))
        XCTAssertTrue(message(Self.model(trees: [tree], booster: "gblinear")).contains("linear model without trees"))
        XCTAssertTrue(message(Self.model(trees: [tree], numFeature: "14")).hasPrefix("the model has 14 features (num_feature)"))
        var names = MLFeatures.names
        names[4] = "slope"
        XCTAssertEqual(
            message(Self.model(trees: [tree], featureNames: names)),
            "feature_names differ from Bedrock's features (docs/ML_FEATURES.md): column 4 is \"slope\", expected \"sma_50_slope_10\""
        )
        XCTAssertTrue(message(Self.model(trees: [tree], featureNames: ["a"])).contains("feature_names has 1 names"))
        var categorical = tree.objectValue!
        categorical = JSONObject(categorical.members.map { $0.key == "split_type" ? ($0.key, [1, 0, 0]) : ($0.key, $0.value) })
        XCTAssertTrue(message(Self.model(trees: [.object(categorical)])).contains("categorical splits"))
        let multiclass = Self.model(trees: [tree]) { learner in
            learner = learner.map {
                $0.0 == "learner_model_param"
                    ? ($0.0, ["base_score": "[5E-1]", "num_class": "3", "num_feature": "15", "num_target": "1"]) : $0
            }
        }
        XCTAssertEqual(message(multiclass), "num_class is 3; Bedrock needs a binary model (num_class 0)")
        XCTAssertTrue(message(["version": [3, 2, 0]]).hasPrefix("not an XGBoost JSON model"))
        XCTAssertThrowsError(try TreeEnsemble(jsonText: "{")) { XCTAssertTrue(String(describing: $0).contains("not valid JSON")) }
        var cyclic = tree.objectValue!
        cyclic = JSONObject(
            cyclic.members.map {
                switch $0.key {
                case "left_children": ($0.key, [1, 0, -1])
                case "right_children": ($0.key, [2, 2, -1])
                default: ($0.key, $0.value)
                }
            })
        XCTAssertTrue(message(Self.model(trees: [.object(cyclic)])).contains("reached twice"))
        // Matching names are accepted and kept.
        XCTAssertEqual(
            try TreeEnsemble(json: Self.model(trees: [tree], featureNames: MLFeatures.names)).featureNames, MLFeatures.names)
    }

    func testJSONRoundTripKeepsEveryPrediction() throws {
        let original = try TreeEnsemble(
            json: Self.model(
                trees: [
                    Self.stump(feature: 0, threshold: 0.5, left: 0.3, right: -0.2, defaultLeft: true),
                    Self.stump(feature: 14, threshold: Double(Float(0.1)), left: 0.125, right: -0.7, defaultLeft: false),
                ], baseScore: "3.3E-1", featureNames: MLFeatures.names))
        let text = JSONCodec.encodeString(original.jsonValue())
        let copy = try TreeEnsemble(jsonText: text)
        XCTAssertEqual(copy.baseScore, original.baseScore)
        XCTAssertEqual(copy.featureNames, MLFeatures.names)
        for x in [Self.features([0: .nan, 14: .nan]), Self.features([0: 0.6, 14: 0.1]), Self.features([14: 0.0999])] {
            XCTAssertEqual(copy.probability(x), original.probability(x))
        }
        let learner = try JSONCodec.parse(text)["learner"]!
        XCTAssertEqual(learner["learner_model_param"]?["base_score"], "[0.33]")
        XCTAssertEqual(learner["gradient_booster"]?["model"]?["iteration_indptr"], [0, 1, 2])
        XCTAssertEqual(learner["gradient_booster"]?["model"]?["trees"]?.arrayValue?[1]["parents"], [2_147_483_647, 0, 0])
    }
}
