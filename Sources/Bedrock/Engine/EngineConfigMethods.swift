import JSONCodec
import RedisClient

/// The live engine's configuration methods (SPEC §15), on the worker queue with pooled
/// connections:
///
/// | method | route | role | answer |
/// |---|---|---|---|
/// | `engine.get` | `GET /v1/engine` | VIEWER | the configuration in effect (`EngineConfiguration.json`) |
/// | `engine.configure` | `POST /v1/engine/config` `{"strategies"?,"arbiter"?,"status"?,"version"?}` | ADMIN | the new version |
/// | `engine.versions` | `GET /v1/engine/versions?limit=&offset=` | VIEWER | stored versions, newest first (SPEC §4 list) |
/// | `engine.deploy` | `POST /v1/engine/deploy` `{"task_id","rank"?}` | ADMIN | `{"config","ignored","warnings"}` |
/// | `engine.pause` / `engine.resume` | `POST /v1/engine/pause` / `resume` | ADMIN | the new version |
///
/// Every change may carry `version`: the version it was made from (409 when another change was
/// stored since). Every change is a new stored version (`EngineConfigStore`), announced as
/// `engine.config_changed` on topic `risk` and applied by every gateway's engine within
/// `EngineConfigStore.checkIntervalMillis` plus one bar.
public enum EngineConfigMethods {
    /// Registers the methods in `table`.
    public static func register(in table: MethodTable, store: EngineConfigStore, pool: RedisPool) {
        func add(_ method: Method, _ body: @escaping @Sendable (MethodCall, LedgerParams, RedisConnection) throws -> JSONValue) {
            table.register(.pooled(method, pool: pool, label: "engine", body))
        }
        add(.engineGet) { _, _, c in try store.currentJSON(on: c) }
        add(.engineVersions) { _, p, c in
            let (offset, limit) = try p.paging()
            let (total, page) = try store.versions(offset: offset, limit: limit, on: c)
            return LedgerPage(total: total, data: page).json(offset: offset, limit: limit)
        }
        add(.engineConfigure) { call, p, c in
            try store.update(by: call.subject, expected: try expectedVersion(p), on: c) { current throws(APIError) in
                do {
                    var next = try current.applying(call.params)
                    // The provenance of a deployed parameter set lasts until the strategies change.
                    if call.params["strategies"] != nil { next.source = nil }
                    return next
                } catch {
                    throw APIError(.badRequest, "\(error)")
                }
            }.json
        }
        add(.enginePause) { call, p, c in try status(.paused, call, p, store: store, on: c) }
        add(.engineResume) { call, p, c in try status(.running, call, p, store: store, on: c) }
        add(.engineDeploy) { call, p, c in try deploy(call, p, store: store, on: c) }
    }

    /// The optional `version` of a change: the version the caller read (409 when it is no longer
    /// current, so a change is never built on a version its author did not see).
    static func expectedVersion(_ p: LedgerParams) throws -> Int? {
        guard let v = p.params["version"], !v.isNull else { return nil }
        guard let n = v.intValue, n >= 0 else {
            throw APIError(.badRequest, "version must be the integer version the change is made from")
        }
        return Int(n)
    }

    /// A new version with `status`; CONFLICT when already so (nothing stored).
    static func status(
        _ status: EngineConfiguration.Status, _ call: MethodCall, _ p: LedgerParams, store: EngineConfigStore,
        on c: RedisConnection
    ) throws -> JSONValue {
        for key in call.params.keys where key != "version" {
            throw APIError(.badRequest, "\(key) is not a field of this call (known: version)")
        }
        return try store.update(by: call.subject, expected: try expectedVersion(p), on: c) { current throws(APIError) in
            guard current.status != status else {
                throw APIError(.conflict, "the engine is already \(status.rawValue) (version \(current.version))")
            }
            var next = current
            next.status = status
            return next
        }.json
    }

    /// `engine.deploy`: the ranked parameter set of a COMPLETED optimisation job.
    static func deploy(_ call: MethodCall, _ p: LedgerParams, store: EngineConfigStore, on c: RedisConnection) throws -> JSONValue
    {
        for key in call.params.keys where !["task_id", "rank", "version"].contains(key) {
            throw APIError(.badRequest, "\(key) is not a deploy field (known: task_id, rank, version)")
        }
        guard let taskID = try p.string("task_id"), !taskID.isEmpty else {
            throw APIError(.badRequest, "task_id is required (an optimisation job)")
        }
        let rank = Int(try p.int("rank") ?? 1)
        guard rank >= 1 else { throw APIError(.badRequest, "rank must be an integer >= 1") }
        let jobs = JobStore(prefix: store.ledger.settings.prefix, ttl: 0)
        guard let job = try jobs.record(id: taskID, on: c) else { throw APIError(.notFound, "no job with task_id \(taskID)") }
        guard job["kind"] == JobKind.optimize.rawValue else {
            throw APIError(.badRequest, "task_id \(taskID) is a \(job["kind"] ?? "?") job; only optimisation results deploy")
        }
        guard job["status"] == JobStatus.completed.rawValue else {
            throw APIError(.conflict, "job \(taskID) is \(job["status"] ?? "?"); only a COMPLETED optimisation deploys")
        }
        guard let bytes = try jobs.stored(id: taskID, "report", on: c),
            let report = (try? JSONCodec.parse(String(decoding: bytes, as: UTF8.self)))?.objectValue
        else { throw APIError(.notFound, "the report of job \(taskID) has expired") }
        let summary = job["summary"].flatMap { try? JSONCodec.parse($0) }?.objectValue ?? [:]
        let market = summary["market"]?.stringValue
        var outcome: EngineDeployment.Outcome?
        let config = try store.update(by: call.subject, expected: try expectedVersion(p), on: c) { current throws(APIError) in
            do {
                let o = try EngineDeployment.apply(
                    report: report, market: market, rank: rank, taskID: taskID, to: current, job: summary)
                outcome = o
                return o.config
            } catch {
                throw APIError(.badRequest, "\(error)")
            }
        }
        return .object([
            "config": config.json, "ignored": .array((outcome?.ignored ?? []).map(JSONValue.string)),
            "warnings": .array((outcome?.warnings ?? []).map(JSONValue.string)),
        ])
    }
}
