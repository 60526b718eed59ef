import RedisClient
import XCTest

@testable import Bedrock

/// A test case with a real `redis-server` on a free port and one connection to it, fresh for
/// every test. Subclasses that need more set-up override `setUpWithError`, call `super` first.
class RedisTestCase: XCTestCase {
    var redis: RedisTestServer!
    var conn: RedisConnection!

    override func setUpWithError() throws {
        try super.setUpWithError()
        redis = try RedisTestServer()
        conn = try redis.connect()
    }

    override func tearDown() {
        conn = nil
        redis = nil
        super.tearDown()
    }
}
