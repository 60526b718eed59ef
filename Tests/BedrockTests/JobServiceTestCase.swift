import Foundation
import JSONCodec
import JWTAuth
import TradingCore
import XCTest

@testable import Bedrock

/// The fixture of the job service tests: a real redis-server, a datasets directory holding
/// `small.csv` (3,000 bars of the synthetic BTCUSDT market), and the service once `start` ran,
/// called through its method table as the gateway calls it.
class JobServiceTestCase: XCTestCase {
    var redis: RedisTestServer!
    var dir: URL!
    var table: MethodTable!
    var service: JobService!

    override func setUpWithError() throws {
        redis = try RedisTestServer()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bedrock-jobs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let small = SyntheticMarket.generate(.btcusdt, bars: 3000, seed: 7)
        try Data(SyntheticMarket.csv(small).utf8).write(to: dir.appendingPathComponent("small.csv"))
    }

    override func tearDown() {
        service?.stop()
        service = nil
        redis = nil
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// Starts the service on the datasets directory (prefix `t:`, heartbeat 200 ms).
    func start(
        workers: Int = 1, queueMax: Int = 8, perUser: Int = 4,
        loader: (@Sendable (String) throws -> any SignalScorer)? = nil
    ) {
        var s = JobSettings()
        s.workers = workers
        s.queueMax = queueMax
        s.perUserMax = perUser
        s.datasetsDir = dir.path
        s.prefix = "t:"
        s.heartbeatMillis = 200
        table = MethodTable()
        service = JobsModule.register(in: table, settings: s, redis: redis.address, modelLoader: loader)
    }

    /// Calls `method` as `sub` with `role` and waits for the answer; `push` gets the job's frames.
    func call(
        _ method: Method, _ params: JSONObject, sub: String = "alice", role: Role = .trader,
        push: @escaping @Sendable (JSONValue) -> Void = { _ in }
    ) -> Result<JSONValue, APIError> {
        let done = expectation(description: "answer")
        nonisolated(unsafe) var answer: Result<JSONValue, APIError>?
        table.dispatch(method, MethodCall(subject: sub, role: role, params: params, push: push)) {
            answer = $0; done.fulfill()
        }
        wait(for: [done], timeout: 20)
        return answer!
    }
}
