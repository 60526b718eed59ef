import XCTest

@testable import Bedrock

/// `circuit.*` configuration keys: defaults, file and environment values, refusals naming the key.
final class CircuitConfigTests: ConfigFileTestCase {
    func testDefaults() throws {
        let c = try load("{}").circuit
        XCTAssertEqual(c.failureThreshold, 5)
        XCTAssertEqual(c.cooldownS, 30)
    }

    func testTheEnvironmentWinsOverTheFile() throws {
        let c = try load(
            #"{"circuit":{"failure_threshold":2,"cooldown_s":10}}"#, env: ["BEDROCK_CIRCUIT_COOLDOWN_S": "0.5"]
        ).circuit
        XCTAssertEqual(c.failureThreshold, 2)
        XCTAssertEqual(c.cooldownS, 0.5)
        XCTAssertEqual(try load("{}", env: ["BEDROCK_CIRCUIT_FAILURE_THRESHOLD": "7"]).circuit.failureThreshold, 7)
    }

    func testRefusalsNameTheKey() throws {
        let cases: [(String, [String: String], String)] = [
            (#"{"circuit":{"failure_threshold":0}}"#, [:], "circuit.failure_threshold: must be an integer 1-1000"),
            (#"{"circuit":{"failure_threshold":2.5}}"#, [:], "circuit.failure_threshold"),
            ("{}", ["BEDROCK_CIRCUIT_FAILURE_THRESHOLD": "many"], "circuit.failure_threshold"),
            (#"{"circuit":{"cooldown_s":0}}"#, [:], "circuit.cooldown_s"),
            ("{}", ["BEDROCK_CIRCUIT_COOLDOWN_S": "-1"], "circuit.cooldown_s"),
            (#"{"circuit":{"half_open_calls":1}}"#, [:], "circuit.half_open_calls: unknown key"),
            ("{}", ["BEDROCK_CIRCUIT_COOLDOWN": "5"], "unknown configuration variable BEDROCK_CIRCUIT_COOLDOWN"),
        ]
        for (json, env, expected) in cases {
            XCTAssertThrowsError(try load(json, env: env), json) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(json) \(env): \(error)")
            }
        }
    }
}
