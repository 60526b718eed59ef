import Foundation
import JSONCodec
import RedisClient
import TradingCore

/// Jobs and reports in Redis, under the gateway's prefix (docs/JOBS.md):
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>job:<task_id>` | hash | `task_id, kind, owner, status, progress, reason, created_at, started_at, finished_at, instance, summary, cancel_requested, metrics` (`JobHeadline`, COMPLETED jobs) |
/// | `<prefix>job:<task_id>:report` | string | the report JSON (COMPLETED jobs) |
/// | `<prefix>job:<task_id>:csv` | string | the CSV export (COMPLETED jobs) |
/// | `<prefix>job:<task_id>:chart` | string | a long backtest's equity series for the PDF export (`JobReport.chartSeries`) |
/// | `<prefix>jobs:active` | set | task ids still PENDING or RUNNING |
/// | `<prefix>jobs:index` | sorted set | every job's task id, scored by its creation time (epoch ms) |
/// | `<prefix>jobs:owner:<sub>` | sorted set | the same for the jobs of one owner (JWT `sub`) |
/// | `<prefix>jobs:instance:<id>` | string, PX | heartbeat of the gateway process running jobs |
///
/// A finished job's hash and report expire after `jobs.report_ttl_s`. Finishing is one Lua
/// script (status, report and set membership change together, and a final status is never
/// overwritten). A job enters both indexes in the step that creates it; index entries whose
/// hash has expired are removed when an index is listed (`list`). Methods run on the caller's
/// thread with the caller's connection.
struct JobStore: Sendable {
    /// The Redis key prefix (`redis.prefix`).
    let prefix: String
    /// Seconds finished jobs and reports are kept.
    let ttl: Int

    func jobKey(_ id: String) -> String { prefix + "job:" + id }
    var activeKey: String { prefix + "jobs:active" }
    func instanceKey(_ id: String) -> String { prefix + "jobs:instance:" + id }
    var indexKey: String { prefix + "jobs:index" }
    func ownerKey(_ owner: String) -> String { prefix + "jobs:owner:" + owner }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    static func now() -> String { RFC3339.format(milliseconds: nowMillis()) }

    /// Records a new PENDING job and adds it to the active set and the indexes, atomically.
    func create(
        id: String, kind: JobKind, owner: String, instance: String, summary: JSONObject,
        on c: RedisConnection
    ) throws {
        let created = JobStore.nowMillis()
        let replies = try c.pipeline([
            ["MULTI"],
            [
                "HSET", jobKey(id), "task_id", id, "kind", kind.rawValue, "owner", owner,
                "status", JobStatus.pending.rawValue, "progress", "0",
                "created_at", RFC3339.format(milliseconds: created),
                "instance", instance, "summary", JSONCodec.encodeString(.object(summary)),
            ],
            ["SADD", activeKey, id],
            ["ZADD", indexKey, String(created), id],
            ["ZADD", ownerKey(owner), String(created), id],
            ["EXEC"],
        ])
        for r in replies { _ = try r.checked() }
    }

    /// PENDING → RUNNING (unless something already finished it).
    func markRunning(id: String, on c: RedisConnection) throws {
        _ = try c.command(["EVAL", JobStore.startScript, "1", jobKey(id), JobStore.now()]).checked()
    }

    /// The last progress (0...1) seen by the worker.
    func setProgress(id: String, _ progress: Double, on c: RedisConnection) throws {
        _ = try c.command(["HSET", jobKey(id), "progress", JobStore.progressText(progress)]).checked()
    }

    static func progressText(_ p: Double) -> String { String(format: "%.4f", min(max(p, 0), 1)) }

    /// Moves the job to a final status with its report (COMPLETED), headline `metrics` (JSON)
    /// or reason; false when it was already final (nothing changed).
    @discardableResult
    func finish(
        id: String, status: JobStatus, reason: String?, report: String?, csv: String?,
        progress: Double?, metrics: String? = nil, on c: RedisConnection
    ) throws -> Bool {
        let reply = try c.command([
            "EVAL", JobStore.finishScript, "4", jobKey(id), activeKey,
            jobKey(id) + ":report", jobKey(id) + ":csv",
            status.rawValue, reason ?? "", JobStore.now(), String(ttl), report ?? "", csv ?? "",
            id, progress.map(JobStore.progressText) ?? "", metrics ?? "",
        ]).checked()
        return reply.integer == 1
    }

    /// Stores a backtest's chart series (`JobReport.chartSeries`) for as long as its report.
    /// Written just before `finish`: a job that turns out to be final already leaves only this
    /// key, which expires with the same TTL.
    func saveChart(id: String, _ chart: String, on c: RedisConnection) throws {
        _ = try c.command(["SET", jobKey(id) + ":chart", chart, "EX", String(ttl)]).checked()
    }

    /// The job hash, nil when unknown or expired.
    func record(id: String, on c: RedisConnection) throws -> [String: String]? {
        guard let items = try c.command(["HGETALL", jobKey(id)]).checked().array, !items.isEmpty else { return nil }
        var out: [String: String] = [:]
        var i = 0
        while i + 1 < items.count {
            out[items[i].string ?? ""] = items[i + 1].string ?? ""
            i += 2
        }
        return out
    }

    /// The stored report JSON, CSV or chart series (`suffix` `report`, `csv` or `chart`), nil when
    /// expired or never stored.
    func stored(id: String, _ suffix: String, on c: RedisConnection) throws -> [UInt8]? {
        let reply = try c.command(["GET", jobKey(id) + ":" + suffix]).checked()
        if case .bulk(let bytes) = reply { return bytes }
        return nil
    }

    /// Asks the gateway running the job to cancel it (it polls this flag).
    func requestCancel(id: String, on c: RedisConnection) throws {
        _ = try c.command(["HSET", jobKey(id), "cancel_requested", "1"]).checked()
    }

    /// Which of `ids` have a cancel request (one round trip).
    func cancelRequested(_ ids: [String], on c: RedisConnection) throws -> [String] {
        let replies = try c.pipeline(ids.map { ["HGET", jobKey($0), "cancel_requested"] })
        return zip(ids, replies).compactMap { id, r in r.string == "1" ? id : nil }
    }

    /// Marks this process alive for `ttlMillis`.
    func heartbeat(instance: String, ttlMillis: Int, on c: RedisConnection) throws {
        _ = try c.command(["SET", instanceKey(instance), JobStore.now(), "PX", String(ttlMillis)]).checked()
    }

    /// Says this process is gone (clean stop).
    func dropInstance(_ instance: String, on c: RedisConnection) throws {
        _ = try c.command(["DEL", instanceKey(instance)]).checked()
    }

    /// Every active job whose gateway process is gone (no heartbeat) becomes FAILED with reason
    /// `interrupted`; finished or expired ids leave the active set. Returns the jobs failed.
    func sweep(on c: RedisConnection) throws -> [SweptJob] {
        let reply = try c.command(["EVAL", JobStore.sweepScript, "1", activeKey, prefix, JobStore.now(), String(ttl)]).checked()
        let fields = (reply.array ?? []).map { $0.string ?? "" }
        return stride(from: 0, to: fields.count - fields.count % 3, by: 3).map {
            SweptJob(id: fields[$0], owner: fields[$0 + 1], kind: fields[$0 + 2])
        }
    }

    /// A job the sweep marked FAILED `interrupted`: its id, owner (`sub`) and kind.
    struct SweptJob: Equatable {
        let id: String
        let owner: String
        let kind: String
    }

    private static let startScript = """
        local s = redis.call('HGET', KEYS[1], 'status')
        if s ~= 'PENDING' then return 0 end
        redis.call('HSET', KEYS[1], 'status', 'RUNNING', 'started_at', ARGV[1], 'progress', '0')
        return 1
        """

    private static let finishScript = """
        local s = redis.call('HGET', KEYS[1], 'status')
        if not s or s == 'COMPLETED' or s == 'FAILED' or s == 'CANCELLED' then
          redis.call('SREM', KEYS[2], ARGV[7])
          return 0
        end
        redis.call('HSET', KEYS[1], 'status', ARGV[1], 'reason', ARGV[2], 'finished_at', ARGV[3])
        if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[8]) end
        if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'metrics', ARGV[9]) end
        if ARGV[5] ~= '' then redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[4]) end
        if ARGV[6] ~= '' then redis.call('SET', KEYS[4], ARGV[6], 'EX', ARGV[4]) end
        redis.call('EXPIRE', KEYS[1], ARGV[4])
        redis.call('SREM', KEYS[2], ARGV[7])
        return 1
        """

    private static let sweepScript = """
        local failed = {}
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local key = ARGV[1] .. 'job:' .. id
          local st = redis.call('HMGET', key, 'status', 'instance', 'owner', 'kind')
          if not st[1] or (st[1] ~= 'PENDING' and st[1] ~= 'RUNNING') then
            redis.call('SREM', KEYS[1], id)
          elseif not st[2] or redis.call('EXISTS', ARGV[1] .. 'jobs:instance:' .. st[2]) == 0 then
            redis.call('HSET', key, 'status', 'FAILED', 'reason', 'interrupted', 'finished_at', ARGV[2])
            redis.call('EXPIRE', key, ARGV[3])
            redis.call('SREM', KEYS[1], id)
            failed[#failed + 1] = id
            failed[#failed + 1] = st[3] or ''
            failed[#failed + 1] = st[4] or ''
          end
        end
        return failed
        """
}
