import Foundation
import JSONCodec
import RedisClient

/// The job API (SPEC §4/§5), the same for REST and the socket:
///
/// | method | params | answer |
/// |---|---|---|
/// | `backtest.submit` / `optimize.submit` | see `JobRequest.parse` | `{"task_id","status":"PENDING"}`; then `progress` and `completed` frames on the socket |
/// | `backtest.status` | `task_id` | `{"task_id","status","progress","kind","owner","created_at","started_at","finished_at","reason","request"}` |
/// | `backtest.report` | `task_id` | the report (409 until COMPLETED, 404 unknown or expired) |
/// | `training.submit` | see `JobRequest.parse` and `TrainingSpec` | as `backtest.submit`; the `completed` report is `{"kind":"train","model": <version>}` |
/// | `training.status` / `training.cancel` | `task_id` | as `backtest.status` (plus `model` once COMPLETED) / `backtest.cancel` |
/// | `backtest.cancel` | `task_id` | `{"task_id","status"}` once stopped (the owner or an ADMIN only; again CANCELLED for a cancelled job, 409 for a COMPLETED or FAILED one) |
/// | `GET /v1/backtest/report/{task_id}/export?format=json\|csv\|pdf` | | `backtest-<id>.json` / `.csv` / `.pdf` download (pdf: backtests only, `JobService+PDF`) |
extension JobService {
    /// `backtest.submit` / `optimize.submit`: validate, admit under the limits, persist, queue.
    func submit(_ kind: JobKind, _ call: MethodCall) -> Result<JSONValue, APIError> {
        let request: JobRequest
        do {
            request = try pool.with { c in
                try JobRequest.parse(
                    kind, call.params, datasets: settings.datasetsDir,
                    // The weights in effect (a run-time engine configuration's), as live trading uses.
                    arbiter: try EngineConfigStore.arbiter(prefix: settings.prefix, fallback: settings.arbiter, on: c),
                    hasBars: { try JobData.hasBars(prefix: settings.prefix, market: $0, interval: $1, on: c) },
                    markets: { try JobData.markets(prefix: settings.prefix, on: c) })
            }
        } catch let error as APIError {
            return .failure(error)
        } catch {
            return .failure(APIError(.unavailable, "the job store is unreachable"))
        }
        if request.mlModel != nil && modelLoader == nil { return .failure(APIError(.badRequest, JobService.noModels)) }
        let id = JobService.idPrefix(kind) + JobService.randomHex(8)
        let job = Job(id: id, owner: call.subject, request: request, push: call.push)
        job.control.emit = { [weak self, unowned job] fraction in self?.progress(job, fraction) }

        condition.lock()
        if stopping || draining {
            condition.unlock()
            return .failure(APIError(.unavailable, "the gateway is shutting down; submit the job to another gateway"))
        }
        if active.count >= settings.queueMax {
            condition.unlock()
            return .failure(
                APIError(.rateLimited, "the job queue is full (\(settings.queueMax) jobs waiting or running); try again later"))
        }
        let mine = active.values.filter { $0.owner == call.subject }.count
        if mine >= settings.perUserMax {
            condition.unlock()
            return .failure(
                APIError(
                    .rateLimited,
                    "you have \(mine) jobs waiting or running (at most \(settings.perUserMax) per user); wait for one to finish or cancel it"
                ))
        }
        active[id] = job  // holds the slot while the record is written
        condition.unlock()

        do {
            try pool.with {
                try store.create(id: id, kind: kind, owner: call.subject, instance: instance, summary: request.summary, on: $0)
            }
        } catch {
            condition.lock()
            active[id] = nil
            condition.unlock()
            return .failure(APIError(.unavailable, "the job store is unreachable"))
        }
        condition.lock()
        if stopping {
            condition.unlock()
            finish(job, .failed, reason: "interrupted", outcome: nil, connection: nil)
        } else {
            queue.append(job)
            condition.signal()
            condition.unlock()
        }
        return .success(["task_id": .string(id), "status": .string(JobStatus.pending.rawValue)])
    }

    /// Task ids start with the kind: `bt-`, `opt-`, `train-`.
    static func idPrefix(_ kind: JobKind) -> String {
        switch kind {
        case .backtest: return "bt-"
        case .optimize: return "opt-"
        case .train: return "train-"
        }
    }

    /// The `task_id` parameter: ids are short `[A-Za-z0-9_-]` words, anything else is unknown.
    func taskID(_ call: MethodCall) throws -> String {
        guard let value = call.params["task_id"], !value.isNull else { throw APIError(.badRequest, "task_id is required") }
        guard let id = value.stringValue else { throw APIError(.badRequest, "task_id must be a string") }
        guard !id.isEmpty, id.count <= 64,
            id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
        else {
            throw APIError(.notFound, "no task \(id)")
        }
        return id
    }

    /// Runs `body` with a pooled connection, mapping Redis failures to UNAVAILABLE.
    func withStore<T>(_ body: (RedisConnection) throws -> T) -> Result<T, APIError> {
        do { return .success(try pool.with(body)) } catch let error as APIError {
            return .failure(error)
        } catch {
            return .failure(APIError(.unavailable, "the job store is unreachable"))
        }
    }

    func record(_ id: String, on c: RedisConnection) throws -> [String: String] {
        guard let r = try store.record(id: id, on: c), r["status"] != nil else {
            throw APIError(.notFound, "no task \(id) (unknown, or finished more than the report retention ago)")
        }
        return r
    }

    /// `backtest.status`.
    func status(_ call: MethodCall) -> Result<JSONValue, APIError> {
        withStore { c in
            let id = try taskID(call)
            let r = try record(id, on: c)
            var out: JSONObject = [
                "task_id": .string(id), "status": .string(r["status"] ?? ""),
                "progress": .double(Double(r["progress"] ?? "") ?? 0),
            ]
            out["kind"] = .string(r["kind"] ?? "")
            out["owner"] = .string(r["owner"] ?? "")
            for key in ["created_at", "started_at", "finished_at", "reason"] {
                out[key] = r[key].flatMap { $0.isEmpty ? nil : JSONValue.string($0) } ?? .null
            }
            if let summary = r["summary"], let value = try? JSONCodec.parse(summary) { out["request"] = value }
            // A finished training job answers with the model version it filed.
            if r["kind"] == JobKind.train.rawValue, r["status"] == JobStatus.completed.rawValue,
                let bytes = try store.stored(id: id, "report", on: c), let report = try? JSONCodec.parse(bytes)
            {
                out["model"] = report.objectValue?["model"] ?? .null
            }
            return .object(out)
        }
    }

    /// `backtest.jobs`: the caller's jobs (an ADMIN's: everyone's), newest first, `limit` (default
    /// 20, at most 100) from `offset`, only those of `kind` (`backtest`, `optimize`, `train`) when
    /// given, in the SPEC §4 list shape: `{"total","page","page_size","data":[{"task_id","kind","status","owner","created_at",
    /// "finished_at","progress","summary","metrics"}]}`; `metrics` is the headline of a COMPLETED
    /// job (`JobHeadline`), null otherwise.
    func history(_ call: MethodCall) -> Result<JSONValue, APIError> {
        let paging: (offset: Int, limit: Int)
        var kind: JobKind?
        do throws(APIError) {
            let p = LedgerParams(params: call.params)
            paging = try p.paging()
            if let name = try p.string("kind") {
                guard let k = JobKind(rawValue: name) else {
                    let valid = JobKind.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError(.badRequest, "kind must be one of \(valid), got \"\(name)\"")
                }
                kind = k
            }
        } catch {
            return .failure(error)
        }
        return withStore { c in
            let page = try store.history(
                owner: call.role == .admin ? nil : call.subject, kind: kind, offset: paging.offset, limit: paging.limit,
                on: c)
            let rows: [JSONValue] = page.jobs.map { id, f in
                func text(_ key: String) -> JSONValue { f[key].flatMap { $0.isEmpty ? nil : .string($0) } ?? .null }
                func json(_ key: String) -> JSONValue { f[key].flatMap { try? JSONCodec.parse($0) } ?? .null }
                return .object([
                    ("task_id", .string(id)), ("kind", text("kind")), ("status", text("status")), ("owner", text("owner")),
                    ("created_at", text("created_at")), ("finished_at", text("finished_at")),
                    ("progress", .double(Double(f["progress"] ?? "") ?? 0)), ("summary", json("summary")),
                    ("metrics", f["status"] == JobStatus.completed.rawValue ? json("metrics") : .null),
                ])
            }
            return LedgerPage(total: page.total, data: rows.compactMap(\.objectValue)).json(
                offset: paging.offset, limit: paging.limit)
        }
    }

    /// The stored report or CSV of a COMPLETED job.
    func stored(_ id: String, _ suffix: String, on c: RedisConnection) throws -> [UInt8] {
        let r = try record(id, on: c)
        let status = r["status"] ?? ""
        guard status == JobStatus.completed.rawValue else {
            let why = (r["reason"] ?? "").isEmpty ? "" : " (\(r["reason"]!))"
            throw APIError(.conflict, "task \(id) is \(status)\(why); a report exists once it is COMPLETED")
        }
        guard let bytes = try store.stored(id: id, suffix, on: c) else {
            throw APIError(.notFound, "the report of task \(id) has expired")
        }
        return bytes
    }

    /// `backtest.report`.
    func report(_ call: MethodCall) -> Result<JSONValue, APIError> {
        withStore { c in
            let bytes = try stored(try taskID(call), "report", on: c)
            guard let value = try? JSONCodec.parse(bytes) else {
                throw APIError(.internal, "the stored report is not valid JSON")
            }
            return value
        }
    }

    /// The export download: `format` json (default), csv or pdf.
    func export(_ call: MethodCall) -> Result<Download, APIError> {
        let format = (call.params["format"]?.stringValue ?? "json").lowercased()
        guard format == "json" || format == "csv" || format == "pdf" else {
            return .failure(APIError(.badRequest, "format must be json, csv or pdf, got \"\(format)\""))
        }
        if format == "pdf" { return pdfExport(call) }
        return withStore { c in
            let id = try taskID(call)
            let kind = (try record(id, on: c)["kind"]).flatMap(JobKind.init(rawValue:)) ?? .backtest
            let bytes = try stored(id, format == "csv" ? "csv" : "report", on: c)
            return Download(
                contentType: format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
                filename: "\(kind == .train ? "training" : kind.rawValue)-\(id).\(format)", body: bytes)
        }
    }

    /// `backtest.cancel`: the owner or an ADMIN. A queued job is CANCELLED at once; a running
    /// one stops at its next check (milliseconds) and the answer waits for that (up to 2 s, and
    /// within the call's deadline, `redis.command_timeout_ms`; then CANCELLING). A
    /// job running on another gateway gets a cancel request it picks up within ~200 ms.
    func cancel(_ call: MethodCall) -> Result<JSONValue, APIError> {
        withStore { c in
            let id = try taskID(call)
            let r = try record(id, on: c)
            guard r["owner"] == call.subject || call.role == .admin else {
                throw APIError(.forbidden, "only the job's owner or an ADMIN may cancel it")
            }
            if let s = JobStatus(rawValue: r["status"] ?? ""), s.isFinal {
                // Idempotent: cancelling a cancelled job answers the same again.
                if s == .cancelled { return ["task_id": .string(id), "status": .string(s.rawValue)] }
                throw APIError(.conflict, "task \(id) is already \(s.rawValue)")
            }
            condition.lock()
            guard let job = active[id] else {
                condition.unlock()
                try store.requestCancel(id: id, on: c)
                return ["task_id": .string(id), "status": .string(r["status"] ?? ""), "cancel_requested": true]
            }
            job.control.cancel(.cancelled)
            if let i = queue.firstIndex(where: { $0 === job }) {
                queue.remove(at: i)
                condition.unlock()
                finish(job, .cancelled, reason: "cancelled", outcome: nil, connection: c)
                return ["task_id": .string(id), "status": .string(JobStatus.cancelled.rawValue)]
            }
            // At most 2 s, and never past the call's own deadline (answered CANCELLING, not timed out).
            let callLeft = RedisDeadline.current.map { RedisDeadline.secondsLeft(until: $0) - 0.05 } ?? 2
            let deadline = Date().addingTimeInterval(max(0, min(2, callLeft)))
            while active[id] != nil && condition.wait(until: deadline) {}
            let status = job.status
            condition.unlock()
            return ["task_id": .string(id), "status": .string(status.isFinal ? status.rawValue : "CANCELLING")]
        }
    }
}
