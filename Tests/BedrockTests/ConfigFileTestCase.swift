import Foundation
import XCTest

@testable import Bedrock

/// The fixture of the configuration tests: a temporary directory and `load`, which reads a JSON
/// config file from it with the given environment (a JWT secret always set).
class ConfigFileTestCase: XCTestCase {
    var dir = ""
    let secret = "config-file-test-secret-0123456789abcdef"

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// The configuration `json` gives with `env` (and `BEDROCK_JWT_SECRET`).
    func load(_ json: String, env: [String: String] = [:]) throws -> GatewayConfig {
        let path = dir + "/c.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return try GatewayConfig.load(
            .init(
                configFile: path, dataDir: dir + "/data",
                environment: env.merging(["BEDROCK_JWT_SECRET": secret]) { a, _ in a }))
    }
}
