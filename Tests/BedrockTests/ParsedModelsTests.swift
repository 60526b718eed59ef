import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// The registry's parsed-model cache: least recently used evicted first, by count and by text bytes.
final class ParsedModelsTests: XCTestCase {
    /// A valid XGBoost JSON model of one stump on `rule_score` (probability 0.5 + `leaf` margin).
    static func stumpModelText(leaf: Double = 0.5) -> String {
        let tree: JSONValue = [
            "base_weights": [0, .double(-leaf), .double(leaf)], "default_left": [1, 0, 0], "id": 0,
            "left_children": [1, -1, -1], "right_children": [2, -1, -1], "loss_changes": [1, 0, 0],
            "parents": [2_147_483_647, 0, 0], "split_conditions": [50, .double(-leaf), .double(leaf)],
            "split_indices": [0, 0, 0], "split_type": [0, 0, 0], "sum_hessian": [2, 1, 1], "categories": [],
            "categories_nodes": [], "categories_segments": [], "categories_sizes": [],
            "tree_param": ["num_deleted": "0", "num_feature": "15", "num_nodes": "3", "size_leaf_vector": "1"],
        ]
        let model: JSONValue = [
            "learner": [
                "attributes": [:], "feature_names": [], "feature_types": [],
                "gradient_booster": [
                    "model": [
                        "gbtree_model_param": ["num_parallel_tree": "1", "num_trees": "1"], "iteration_indptr": [0, 1],
                        "tree_info": [0], "trees": [tree],
                    ],
                    "name": "gbtree",
                ],
                "learner_model_param": [
                    "base_score": "[5E-1]", "boost_from_average": "1", "num_class": "0", "num_feature": "15",
                    "num_target": "1",
                ],
                "objective": ["name": "binary:logistic", "reg_loss_param": ["scale_pos_weight": "1"]],
            ],
            "version": [3, 2, 0],
        ]
        return JSONCodec.encodeString(model)
    }

    func testTheLeastRecentlyUsedGoesFirstWhenTheCountIsReached() throws {
        let ensemble = try TreeEnsemble(jsonText: Self.stumpModelText())
        var cache = ParsedModels(countLimit: 3, byteLimit: 1 << 30)
        for ref in ["a@1", "a@2", "a@3"] { cache.put(ref, ensemble, bytes: 10) }
        XCTAssertNotNil(cache.get("a@1"))  // a@2 is now the least recently used
        cache.put("a@4", ensemble, bytes: 10)
        XCTAssertEqual(cache.references, ["a@1", "a@3", "a@4"])
        XCTAssertNil(cache.get("a@2"))
        cache.put("a@1", ensemble, bytes: 10)  // a replaced entry counts once
        XCTAssertEqual(cache.references, ["a@1", "a@3", "a@4"])
    }

    func testTheTextBytesBoundTheCacheButTheNewestStays() throws {
        let ensemble = try TreeEnsemble(jsonText: Self.stumpModelText())
        var cache = ParsedModels(countLimit: 32, byteLimit: 100)
        cache.put("a@1", ensemble, bytes: 40)
        cache.put("a@2", ensemble, bytes: 40)
        _ = cache.get("a@1")
        cache.put("a@3", ensemble, bytes: 40)  // 120 > 100: a@2, the least recently used, goes
        XCTAssertEqual(cache.references, ["a@1", "a@3"])
        cache.put("big@1", ensemble, bytes: 500)  // larger than the bound: kept alone
        XCTAssertEqual(cache.references, ["big@1"])
    }
}
