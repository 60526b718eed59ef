import XCTest

@testable import Bedrock

/// `llm.*` configuration keys: defaults (no provider), file and environment values, refusals
/// that name the key, and the API key never shown.
final class LLMConfigTests: ConfigFileTestCase {
    let key = "sk-test-0123456789SECRET"

    func testDefaultsHaveNoProvider() throws {
        let l = try load("{}").llm
        XCTAssertFalse(l.enabled)
        XCTAssertEqual(l.timeoutS, 30)
        XCTAssertEqual(l.maxConcurrency, 2)
        XCTAssertEqual(l.cacheTTLS, 3600)
        XCTAssertEqual(l.promptsDir, "config/prompts")
        XCTAssertEqual(l.responseFormat, .text)
        XCTAssertEqual("\(l)", "llm(provider: none)")
    }

    func testFileAndEnvironmentWithTheKeyFromTheEnvironmentOnly() throws {
        let c = try load(
            #"{"llm":{"provider":"openai","base_url":"http://127.0.0.1:11434/v1","model":"qwen2.5","timeout_s":5,"max_concurrency":4,"response_format":"json_object"}}"#,
            env: ["BEDROCK_LLM_API_KEY": key, "BEDROCK_LLM_CACHE_TTL_S": "600"])
        let l = c.llm
        XCTAssertTrue(l.enabled)
        XCTAssertEqual(l.baseURL, "http://127.0.0.1:11434/v1")
        XCTAssertEqual(l.model, "qwen2.5")
        XCTAssertEqual(l.apiKey, key)
        XCTAssertEqual(l.timeoutS, 5)
        XCTAssertEqual(l.maxConcurrency, 4)
        XCTAssertEqual(l.cacheTTLS, 600)
        XCTAssertEqual(l.responseFormat, .jsonObject)
        XCTAssertFalse("\(l)".contains(key), "\(l)")
        XCTAssertTrue("\(l)".contains("api_key: set"))
    }

    func testRefusalsNameTheKeyAndNeverShowTheSecret() throws {
        let cases: [(String, [String: String], String)] = [
            (#"{"llm":{"provider":"claude"}}"#, [:], "llm.provider: must be one of none, openai"),
            (#"{"llm":{"provider":"openai","model":"m"}}"#, [:], "llm.base_url: is required with llm.provider openai"),
            (#"{"llm":{"provider":"openai","base_url":"ftp://x/v1","model":"m"}}"#, [:], "llm.base_url"),
            (#"{"llm":{"provider":"openai","base_url":"http://h/v1"}}"#, [:], "llm.model: is required"),
            (#"{"llm":{"max_concurrency":0}}"#, [:], "llm.max_concurrency: must be an integer 1-64"),
            (#"{"llm":{"timeout_s":-1}}"#, [:], "llm.timeout_s"),
            (#"{"llm":{"api_key":12345}}"#, [:], "llm.api_key: must be a string"),
            ("{}", ["BEDROCK_LLM_API_KEY": "sk bad \(key)"], "llm.api_key: must be visible ASCII"),
            (#"{"llm":{"surprise":1}}"#, [:], "llm.surprise"),
        ]
        for (json, env, expected) in cases {
            XCTAssertThrowsError(try load(json, env: env), json) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(json): \(error)")
                XCTAssertFalse("\(error)".contains(key), "\(error)")
                XCTAssertFalse("\(error)".contains("12345"), "\(error)")
            }
        }
    }
}
