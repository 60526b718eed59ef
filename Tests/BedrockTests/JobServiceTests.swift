import Foundation
import JSONCodec
import JWTAuth
import Synchronization
import XCTest

import struct TradingCore.BacktestReport
import enum TradingCore.RFC3339
import enum TradingCore.SyntheticMarket

@testable import Bedrock

/// Collects the frames a job pushes to its submitter.
final class PushRecorder: @unchecked Sendable {
    // Sound: `frames` is guarded by `condition`.
    private let condition = NSCondition()
    private var frames: [(at: Date, frame: JSONValue)] = []

    var push: @Sendable (JSONValue) -> Void {
        { [self] f in
            condition.lock(); frames.append((Date(), f)); condition.broadcast(); condition.unlock()
        }
    }

    var all: [JSONValue] { condition.lock(); defer { condition.unlock() }; return frames.map(\.frame) }

    /// The first frame of `type`, waiting up to `timeout` s.
    func wait(_ type: String, timeout: Double = 30) -> (at: Date, frame: JSONValue)? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let hit = frames.first(where: { $0.frame["type"]?.stringValue == type }) { return hit }
            if !condition.wait(until: deadline) { return nil }
        }
    }
}

/// The job service against a real redis-server: submit → progress → completed, reports and
/// exports, validation, queue limits, cancellation latency, persistence and interrupted jobs.
final class JobServiceTests: JobServiceTestCase {
    /// A dataset long enough that a backtest runs for seconds (a repeated synthetic market).
    private func writeBig(_ name: String = "big.csv", bars: Int = 400_000) throws {
        let series = SyntheticMarket.generate(.btcusdt, bars: bars, seed: 3)
        try Data(SyntheticMarket.csv(series).utf8).write(to: dir.appendingPathComponent(name))
    }

    private func ok(_ r: Result<JSONValue, APIError>, file: StaticString = #filePath, line: UInt = #line) -> JSONValue {
        switch r {
        case .success(let v): return v
        case .failure(let e): XCTFail("\(e.code): \(e.message)", file: file, line: line); return .null
        }
    }

    private func failure(_ r: Result<JSONValue, APIError>) -> APIError? {
        if case .failure(let e) = r { return e }
        return nil
    }

    private func waitStatus(_ id: String, _ wanted: String, timeout: Double = 30) -> JSONValue? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let s = ok(call(.backtestStatus, ["task_id": .string(id)], role: .viewer))
            if s["status"]?.stringValue == wanted { return s }
            usleep(50_000)
        }
        return nil
    }

    func testBacktestProgressCompletedReportAndExport() throws {
        start()
        let rec = PushRecorder()
        let submitted = ok(
            call(
                .backtestSubmit,
                [
                    "strategy": "sma_cross", "dataset": "small.csv", "params": ["fast": 5, "slow": 20],
                    "initial_balance": 5000, "commission": 0.001,
                ], push: rec.push))
        XCTAssertEqual(submitted["status"], "PENDING")
        let id = try XCTUnwrap(submitted["task_id"]?.stringValue)
        let completed = try XCTUnwrap(rec.wait("completed")).frame
        XCTAssertEqual(completed["status"], "COMPLETED")
        XCTAssertEqual(completed["task_id"]?.stringValue, id)
        let progress = rec.all.filter { $0["type"] == "progress" }.compactMap { $0["progress"]?.doubleValue }
        XCTAssertEqual(progress.first, 0)
        XCTAssertEqual(progress.last, 1)
        XCTAssertEqual(progress, progress.sorted())
        let report = try XCTUnwrap(completed["report"])
        XCTAssertEqual(report["strategy_name"], "sma_cross")
        XCTAssertEqual(report["initial_balance"]?.doubleValue, 5000)
        XCTAssertEqual(report["parameters"]?["fast"]?.doubleValue, 5)
        XCTAssertNotNil(report["trades"]?.arrayValue)
        XCTAssertEqual(report["equity_curve"]?.arrayValue?.count, 3000)
        // The same report over the method (REST and socket share it), and the status.
        XCTAssertEqual(ok(call(.backtestReport, ["task_id": .string(id)], role: .viewer)), report)
        let status = ok(call(.backtestStatus, ["task_id": .string(id)], role: .viewer))
        XCTAssertEqual(status["status"], "COMPLETED")
        XCTAssertEqual(status["progress"]?.doubleValue, 1)
        XCTAssertEqual(status["owner"], "alice")
        XCTAssertEqual(status["request"]?["dataset"], "small.csv")
        // Export: CSV rows = trades; JSON = the report.
        guard
            case .success(let csv) = service.export(
                MethodCall(subject: "bob", role: .viewer, params: ["task_id": .string(id), "format": "csv"]))
        else {
            return XCTFail("csv export failed")
        }
        XCTAssertEqual(csv.filename, "backtest-\(id).csv")
        let lines = String(decoding: csv.body, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.first.map(String.init), BacktestReport.csvHeader.joined(separator: ","))
        XCTAssertEqual(lines.count - 1, report["trades"]?.arrayValue?.count)
        guard
            case .success(let json) = service.export(MethodCall(subject: "bob", role: .viewer, params: ["task_id": .string(id)]))
        else {
            return XCTFail("json export failed")
        }
        XCTAssertEqual(json.filename, "backtest-\(id).json")
        XCTAssertEqual(try JSONCodec.parse(json.body), report)
        XCTAssertEqual(
            service.export(MethodCall(subject: "b", role: .viewer, params: ["task_id": .string(id), "format": "xml"]))
                .failureCode, .badRequest)
        let metrics = service.registry.render()
        XCTAssertTrue(metrics.contains("bedrock_jobs_finished_total{kind=\"backtest\",status=\"COMPLETED\"} 1\n"), metrics)
        XCTAssertTrue(metrics.contains("bedrock_backtests_run_total 1\n"), metrics)
        XCTAssertTrue(metrics.contains("bedrock_jobs_running 0.0\n"), metrics)
        XCTAssertEqual(failure(call(.backtestReport, ["task_id": "bt-nope"]))?.code, .notFound)
        XCTAssertEqual(failure(call(.backtestCancel, ["task_id": .string(id)]))?.code, .conflict)
    }

    func testBadParametersNameTheFieldAndValidValues() throws {
        start()
        let cases: [(JSONObject, String)] = [
            ([:], "strategy is required; valid: oops, pullback, sma_cross"),
            (["strategy": "nope", "dataset": "small.csv"], "valid: oops, pullback, sma_cross"),
            (["strategy": "sma_cross", "dataset": "small.csv", "params": ["fast": 0]], "fast"),
            (["strategy": "sma_cross", "dataset": "small.csv", "params": ["speed": 3]], "valid: fast"),
            (["strategy": "sma_cross", "dataset": "../small.csv"], "dataset must be a file name"),
            (["strategy": "sma_cross", "dataset": "/etc/passwd"], "dataset must be a file name"),
            (["strategy": "sma_cross", "dataset": "missing.csv"], "valid: small.csv"),
            (["strategy": "sma_cross"], "market (with interval) or dataset is required"),
            (["strategy": "sma_cross", "market": "BTCUSDT", "interval": "1h"], "has no bars"),
            (["strategy": "sma_cross", "dataset": "small.csv", "commission": 2], "commission must be a rate in [0, 1)"),
            (
                ["strategy": "sma_cross", "dataset": "small.csv", "initial_balance": "-1"],
                "initial_balance must be a positive number"
            ),
            (["strategy": "sma_cross", "dataset": "small.csv", "start_date": "yesterday"], "start_date must be a date"),
        ]
        for (params, needle) in cases {
            let e = failure(call(.backtestSubmit, params))
            XCTAssertEqual(e?.code, .badRequest, "\(params)")
            XCTAssertTrue(e?.message.contains(needle) ?? false, "\(params): \(e?.message ?? "accepted")")
        }
        let opt: [(JSONObject, String)] = [
            (["strategy": "sma_cross", "dataset": "small.csv"], "grid is required"),
            (["strategy": "sma_cross", "dataset": "small.csv", "grid": ["speed": [1]]], "valid: fast"),
            (["strategy": "sma_cross", "dataset": "small.csv", "grid": ["fast": [5]], "metric": "luck"], "valid: roi"),
            (
                ["strategy": "sma_cross", "dataset": "small.csv", "grid": ["fast": [5]], "method": "magic"],
                "method must be grid, random or bayesian"
            ),
            (
                ["strategy": "sma_cross", "dataset": "small.csv", "grid": ["fast": "2:200", "slow": "3:400"]],
                "at most 10000 per job"
            ),
        ]
        for (params, needle) in opt {
            let e = failure(call(.optimizeSubmit, params))
            XCTAssertEqual(e?.code, .badRequest, "\(params)")
            XCTAssertTrue(e?.message.contains(needle) ?? false, "\(params): \(e?.message ?? "accepted")")
        }
    }

    func testQueueLimitsCancelLatencyAndOwnership() throws {
        try writeBig()
        start(workers: 1, queueMax: 3, perUser: 2)
        let rec = PushRecorder()
        let big: JSONObject = ["strategy": "sma_cross", "dataset": "big.csv"]
        let first = try XCTUnwrap(ok(call(.backtestSubmit, big, push: rec.push))["task_id"]?.stringValue)
        let second = try XCTUnwrap(ok(call(.backtestSubmit, big))["task_id"]?.stringValue)
        XCTAssertEqual(failure(call(.backtestSubmit, big))?.code, .rateLimited, "per-user limit")
        _ = ok(call(.backtestSubmit, big, sub: "bob"))
        XCTAssertEqual(failure(call(.backtestSubmit, big, sub: "carol"))?.code, .rateLimited, "global limit")
        // Only the owner (or an ADMIN) may cancel.
        XCTAssertNotNil(waitStatus(first, "RUNNING"))
        XCTAssertEqual(failure(call(.backtestCancel, ["task_id": .string(first)], sub: "bob"))?.code, .forbidden)
        // A queued job is CANCELLED at once; a running one stops where it is (how fast is a figure
        // of the jobs benchmark, not of a unit test on a shared machine).
        XCTAssertEqual(ok(call(.backtestCancel, ["task_id": .string(second)]))["status"], "CANCELLED")
        XCTAssertNotNil(rec.wait("progress"))
        let answer = ok(call(.backtestCancel, ["task_id": .string(first)]))
        XCTAssertEqual(answer["status"], "CANCELLED")
        let done = try XCTUnwrap(rec.wait("completed"))
        XCTAssertEqual(done.frame["status"], "CANCELLED")
        let progress = rec.all.compactMap { $0["type"]?.stringValue == "progress" ? $0["progress"]?.doubleValue : nil }
        XCTAssertLessThan(progress.max() ?? 1, 1, "stopped mid-run: it never reported the whole run done")
        XCTAssertEqual(ok(call(.backtestStatus, ["task_id": .string(first)]))["reason"], "cancelled")
        XCTAssertEqual(ok(call(.backtestCancel, ["task_id": .string(first)]))["status"], "CANCELLED", "cancel is idempotent")
        // The slots are free again.
        XCTAssertNotNil(ok(call(.backtestSubmit, ["strategy": "sma_cross", "dataset": "small.csv"]))["task_id"])
    }

    func testMarketBarsFromRedisAndDateRange() throws {
        start()
        let conn = try redis.connect()
        let series = SyntheticMarket.generate(.ethusdt, bars: 500, seed: 1)
        for i in 0..<series.count {
            let event = KlineEvent.encode(series[i], market: "ETHUSDT", interval: "1h", now: 0)
            _ = try conn.command(["XADD", "t:stream:klines:ETHUSDT:1h", "*", "event", event]).checked()
        }
        let day = RFC3339.format(milliseconds: series[100].time).prefix(10)
        let endDay = RFC3339.format(milliseconds: series[400].time).prefix(10)
        let rec = PushRecorder()
        _ = ok(
            call(
                .backtestSubmit,
                [
                    "strategy": "sma_cross", "market": "ETH/USDT", "interval": "1h",
                    "start_date": .string(String(day)), "end_date": .string(String(endDay)),
                ], push: rec.push))
        let report = try XCTUnwrap(rec.wait("completed")?.frame["report"])
        XCTAssertEqual(report["start_date"]?.stringValue?.prefix(10), day)
        XCTAssertEqual(report["end_date"]?.stringValue?.prefix(10), endDay)
        XCTAssertEqual(report["end_date"]?.stringValue?.hasSuffix("T23:00:00Z"), true)
    }

    func testOptimizationRanksAndExportsCSV() throws {
        start()
        let rec = PushRecorder()
        let id = try XCTUnwrap(
            ok(
                call(
                    .optimizeSubmit,
                    [
                        "strategy": "sma_cross", "dataset": "small.csv", "grid": ["fast": [5, 10], "slow": "20:40:10"],
                        "metric": "roi",
                    ], push: rec.push))["task_id"]?.stringValue)
        XCTAssertTrue(id.hasPrefix("opt-"))
        let done = try XCTUnwrap(rec.wait("completed")).frame
        XCTAssertEqual(done["status"], "COMPLETED")
        let results = try XCTUnwrap(done["report"]?["results"]?.arrayValue)
        XCTAssertEqual(results.count, 6)
        let rois = results.compactMap { $0["roi"]?.doubleValue }
        XCTAssertEqual(rois, rois.sorted(by: >))
        guard
            case .success(let csv) = service.export(
                MethodCall(subject: "x", role: .viewer, params: ["task_id": .string(id), "format": "csv"]))
        else {
            return XCTFail("export failed")
        }
        XCTAssertEqual(csv.filename, "optimize-\(id).csv")
        XCTAssertTrue(service.registry.render().contains("bedrock_backtests_run_total 6\n"))
        XCTAssertEqual(String(decoding: csv.body, as: UTF8.self).split(separator: "\n").count, 7)
    }

    func testAStoppedServiceIsFreed() {
        var settings = JobSettings()
        settings.datasetsDir = dir.path
        settings.prefix = "t:"
        settings.heartbeatMillis = 200
        var running: JobService? = JobService(settings: settings, redis: redis.address)
        running?.start()
        weak let stopped = running
        running?.stop()
        running = nil
        // Its threads release it as they exit, which may come just after `stop` returns.
        let deadline = Date().addingTimeInterval(5)
        while stopped != nil, Date() < deadline { usleep(10_000) }
        XCTAssertNil(stopped, "a stopped job service (and its threads, pool and metrics) stays in memory")
    }

    func testStopInterruptsAndSweepFailsOrphans() throws {
        try writeBig()
        start()
        let rec = PushRecorder()
        let id = try XCTUnwrap(
            ok(call(.backtestSubmit, ["strategy": "sma_cross", "dataset": "big.csv"], push: rec.push))["task_id"]?.stringValue)
        XCTAssertNotNil(waitStatus(id, "RUNNING"))
        service.stop()
        XCTAssertEqual(rec.wait("completed")?.frame["reason"], "interrupted")
        // A job left RUNNING by a process that died (no heartbeat) becomes FAILED interrupted.
        let conn = try redis.connect()
        _ = try conn.command([
            "HSET", "t:job:bt-orphan", "task_id", "bt-orphan", "status", "RUNNING", "owner", "alice",
            "kind", "backtest", "instance", "dead", "progress", "0.5",
        ]).checked()
        _ = try conn.command(["SADD", "t:jobs:active", "bt-orphan"]).checked()
        start()
        XCTAssertEqual(waitStatus(id, "FAILED", timeout: 1)?["reason"], "interrupted")
        let orphan = try XCTUnwrap(waitStatus("bt-orphan", "FAILED", timeout: 5))
        XCTAssertEqual(orphan["reason"], "interrupted")
        XCTAssertEqual(try conn.command(["SCARD", "t:jobs:active"]).integer, 0)
    }

    func testADrainLetsJobsFinishWithinItsTimeRefusesNewOnesThenInterrupts() throws {
        try writeBig()
        let big: JSONObject = ["strategy": "sma_cross", "dataset": "big.csv"]
        start(workers: 1)
        let running = try XCTUnwrap(ok(call(.backtestSubmit, big))["task_id"]?.stringValue)
        XCTAssertNotNil(waitStatus(running, "RUNNING"))
        // Finished within the time: nothing left, the job COMPLETED, not interrupted.
        let draining = service!
        let left = Mutex(-1)
        Thread { left.withLock { $0 = draining.finishOrStop(within: 120) } }.start()
        let started = Date().addingTimeInterval(10)
        while Date() < started && !draining.condition.withLock({ draining.draining }) { usleep(5_000) }
        XCTAssertEqual(call(.backtestSubmit, big).failureCode, .unavailable, "no new job while draining")
        XCTAssertNotNil(waitStatus(running, "COMPLETED", timeout: 120))
        let deadline = Date().addingTimeInterval(30)
        while left.withLock({ $0 }) < 0 && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(left.withLock { $0 }, 0)
        // A job longer than the time is interrupted when it runs out.
        start(workers: 1)
        let rec = PushRecorder()
        let long = try XCTUnwrap(ok(call(.backtestSubmit, big, push: rec.push))["task_id"]?.stringValue)
        XCTAssertNotNil(waitStatus(long, "RUNNING"))
        XCTAssertEqual(service.finishOrStop(within: 0.2), 1)
        XCTAssertEqual(rec.wait("completed")?.frame["reason"], "interrupted")
    }
}

extension Result where Failure == APIError {
    /// The error code of a failure, nil for a success.
    var failureCode: ErrorCode? {
        if case .failure(let e) = self { return e.code }
        return nil
    }
}
