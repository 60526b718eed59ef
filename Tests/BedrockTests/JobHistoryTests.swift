import Foundation
import JSONCodec
import JWTAuth
import RedisClient
import XCTest

@testable import Bedrock

/// `backtest.jobs` against a real redis-server: the owner's jobs newest first with the headline
/// metrics of COMPLETED ones, and index entries whose job hash expired pruned when listed.
final class JobHistoryTests: JobServiceTestCase {
    private func value(_ r: Result<JSONValue, APIError>, file: StaticString = #filePath, line: UInt = #line) -> JSONValue {
        switch r {
        case .success(let v): return v
        case .failure(let e): XCTFail("\(e.code): \(e.message)", file: file, line: line); return .null
        }
    }

    /// Submits a small backtest as `sub` and waits until it finished.
    private func backtest(sub: String) throws -> String {
        let rec = PushRecorder()
        let answer = value(
            call(.backtestSubmit, ["strategy": "sma_cross", "dataset": "small.csv"], sub: sub, push: rec.push))
        XCTAssertNotNil(rec.wait("completed"))
        return try XCTUnwrap(answer["task_id"]?.stringValue)
    }

    func testOwnJobsNewestFirstWithMetricsAndExpiredEntriesPruned() throws {
        start()
        let first = try backtest(sub: "alice")
        let second = try backtest(sub: "alice")
        _ = try backtest(sub: "bob")

        let mine = value(call(.backtestJobs, [:], sub: "alice", role: .viewer))
        XCTAssertEqual(mine["total"], 2)
        let rows = try XCTUnwrap(mine["data"]?.arrayValue)
        XCTAssertEqual(rows.map { $0["task_id"]?.stringValue }, [second, first])
        XCTAssertEqual(rows[0]["status"], "COMPLETED")
        XCTAssertEqual(rows[0]["summary"]?["strategy"], "sma_cross")
        XCTAssertNotNil(rows[0]["metrics"]?["total_trades"]?.intValue)
        XCTAssertNotNil(rows[0]["metrics"]?["roi"]?.doubleValue)
        XCTAssertEqual(value(call(.backtestJobs, [:], sub: "carol", role: .admin))["total"], 3)
        XCTAssertEqual(value(call(.backtestJobs, ["kind": "optimize"], sub: "carol", role: .admin))["total"], 0)

        // The first job's hash expires: it is an old entry now, and leaves both indexes when listed.
        let c = try RedisConnection(redis.address)
        _ = try c.command(["DEL", "t:job:" + first]).checked()
        for key in ["t:jobs:index", "t:jobs:owner:alice"] { _ = try c.command(["ZADD", key, "1000", first]).checked() }
        let after = value(call(.backtestJobs, [:], sub: "alice", role: .viewer))
        XCTAssertEqual(after["total"], 1)
        XCTAssertEqual(after["data"]?.arrayValue?.map { $0["task_id"]?.stringValue }, [second])
        XCTAssertNil(try c.command(["ZSCORE", "t:jobs:owner:alice", first]).checked().string)
        XCTAssertEqual(value(call(.backtestJobs, [:], sub: "carol", role: .admin))["total"], 2)
        XCTAssertNil(try c.command(["ZSCORE", "t:jobs:index", first]).checked().string)
    }
}
