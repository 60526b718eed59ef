import Foundation
import GatewayCore
import JSONCodec
import Logging
import RedisClient
import TradingCore

#if canImport(Glibc)
    import Glibc
#endif

/// Settings of the job service (from `jobs.*` and `redis.prefix`).
public struct JobSettings: Sendable {
    /// Worker threads.
    public var workers = 2
    /// Jobs waiting or running on this gateway before submissions are RATE_LIMITED.
    public var queueMax = 32
    /// Jobs one user may have waiting or running on this gateway.
    public var perUserMax = 4
    /// Seconds finished jobs and reports are kept in Redis.
    public var reportTTL = 604_800
    /// The datasets directory.
    public var datasetsDir = ".bedrock/datasets"
    /// Redis key prefix.
    public var prefix = "bedrock:"
    /// Heartbeat period of this process (ms); its key lives three periods.
    public var heartbeatMillis = 2000
    /// Threads one training job trains on. 1 (its own worker thread, at `workerNice`), like an
    /// optimisation: the pool runs jobs side by side, and the trainer's helper threads would run
    /// at normal priority beside the event loops. `bedrock train` uses every core.
    public var trainingThreads = 1
    /// The arbiter jobs apply (unless a job turns it off): the gateway's `arbiter.*`.
    public var arbiter = ArbiterConfig.default
    /// Nice value of the job threads (Linux; 19 = lowest), so jobs yield the CPU to the event
    /// loop, the Redis bridge and the API workers whenever those want it.
    public var workerNice: Int32 = 19

    /// Defaults.
    public init() {}
}

/// One job known to this process (PENDING or RUNNING here).
final class Job: @unchecked Sendable {
    // Sound: `status` is guarded by the service's condition lock; the rest is immutable.
    let id: String
    let owner: String
    let request: JobRequest
    let push: @Sendable (JSONValue) -> Void
    let control: JobControl
    var status: JobStatus = .pending
    /// Paces the job's progress events on its submitter's `user` topic.
    let userProgress = UserProgressThrottle()

    init(id: String, owner: String, request: JobRequest, push: @escaping @Sendable (JSONValue) -> Void) {
        self.id = id
        self.owner = owner
        self.request = request
        self.push = push
        self.control = JobControl()
    }
}

/// The job queue and its worker pool: its own threads (never the event loop or the API queue),
/// a global and a per-user limit, cancellation, progress and `completed` frames to the
/// submitter, and persistence in Redis (`JobStore`). Several gateways may share one Redis: each
/// runs the jobs submitted to it, any of them answers status and reports, and a job whose
/// gateway died (no heartbeat) is turned FAILED `interrupted` by the next sweep of any of them.
public final class JobService: @unchecked Sendable {
    // Sound: `queue`, `active`, `stopping` and every `Job.status` are guarded by `condition`;
    // the worker threads own their Redis connections; handlers borrow pooled ones.
    let settings: JobSettings
    let store: JobStore
    let pool: RedisPool
    let address: RedisAddress
    /// This process's id in job records and its heartbeat key.
    let instance: String
    let log: Logger
    /// Job counters and queue gauges (in `metrics.registry`).
    let metrics: JobMetrics
    /// Files the models training jobs produce (the model registry); nil refuses training jobs.
    let modelSink: TrainedModelSink?
    let condition = NSCondition()
    var queue: [Job] = []
    var active: [String: Job] = [:]
    var stopping = false
    /// Draining (`finishOrStop`): no new jobs; those here may still finish.
    var draining = false
    private let exited = DispatchSemaphore(value: 0)
    private var threadCount = 0
    /// Loads the model a job names (`name@version`) on the job's worker thread; nil when this
    /// gateway has no model registry (jobs naming `ml_model` are then refused).
    let modelLoader: (@Sendable (String) throws -> any SignalScorer)?
    /// Where progress and completion also go, to the submitter's `user` topic; nil: nowhere.
    let users: UserEvents?
    /// Paces those progress events (monotonic).
    let clock: any GatewayClock

    /// A service for the Redis at `address`; call `start()` to run its threads. Its metrics go
    /// into `metrics`; `modelLoader` loads the models jobs name in `ml_model`; `modelSink` files
    /// the models training jobs produce; `users` carries progress and completion to the
    /// submitter's `user` topic.
    public init(
        settings: JobSettings, redis address: RedisAddress, metrics: MetricsRegistry = MetricsRegistry(),
        modelLoader: (@Sendable (String) throws -> any SignalScorer)? = nil, modelSink: TrainedModelSink? = nil,
        users: UserEvents? = nil, clock: any GatewayClock = SystemClock()
    ) {
        self.users = users
        self.clock = clock
        self.modelLoader = modelLoader
        self.modelSink = modelSink
        self.settings = settings
        self.address = address
        self.store = JobStore(prefix: settings.prefix, ttl: settings.reportTTL)
        self.pool = RedisPool(address: address, maxIdle: 8)
        self.instance = JobService.randomHex(8)
        self.log = Logger(label: "bedrock.jobs")
        self.metrics = JobMetrics(registry: metrics)
        metrics.onScrape { [weak self] in self?.publishGauges() }
    }

    /// The registry the job metrics are in.
    public var registry: MetricsRegistry { metrics.registry }

    /// Starts the workers and the maintenance thread (heartbeat, sweep of interrupted jobs,
    /// cancel requests from other gateways).
    public func start() {
        try? FileManager.default.createDirectory(atPath: settings.datasetsDir, withIntermediateDirectories: true)
        for i in 0..<settings.workers {
            spawn("bedrock-job-\(i)") { [self] in
                JobData.lowerPriority(settings.workerNice)
                workerLoop()
            }
        }
        spawn("bedrock-job-maint") { [self] in maintenanceLoop() }
    }

    /// Starts a thread running `body`. The `Thread` is not kept: it holds `body` (and so the
    /// service) until it exits, and keeping it here would keep a stopped service alive forever.
    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [exited] in
            body()
            exited.signal()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        threadCount += 1
        thread.start()
    }

    /// Stops accepting jobs, cancels running ones (they and the queued ones become FAILED
    /// `interrupted`, and their submitters get a `completed` frame saying so), waits up to 5 s
    /// for the threads, and removes this process's heartbeat.
    public func stop() {
        condition.lock()
        if stopping { condition.unlock(); return }
        stopping = true
        let pending = queue
        queue.removeAll()
        for job in active.values where job.status == .running { job.control.cancel(.interrupted) }
        condition.broadcast()
        condition.unlock()
        for job in pending { finish(job, .failed, reason: "interrupted", outcome: nil, connection: nil) }
        let deadline = DispatchTime.now() + 5
        for _ in 0..<threadCount where exited.wait(timeout: deadline) == .timedOut {
            log.warning("jobs: a worker did not stop within 5 s")
            break
        }
        _ = try? pool.with { try store.dropInstance(instance, on: $0) }
    }

    /// The drain of a gateway going away: refuses new jobs, lets the queued and running ones
    /// finish for up to `seconds`, then stops (what is left becomes FAILED `interrupted`).
    /// Returns how many jobs were left. Blocks the caller; `stop()` from another thread (a second
    /// signal) ends the wait at once.
    @discardableResult
    public func finishOrStop(within seconds: Double) -> Int {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        draining = true
        while !active.isEmpty && !stopping && condition.wait(until: deadline) {}
        let left = active.count
        condition.unlock()
        if left > 0 { log.warning("jobs: \(left) job(s) still running after the drain timeout; interrupting them") }
        stop()
        return left
    }

    /// A random lowercase hex string of `bytes` bytes.
    static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    // MARK: - workers

    private func workerLoop() {
        var connection: RedisConnection?
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if stopping { condition.unlock(); return }
            let job = queue.removeFirst()
            job.status = .running
            condition.unlock()
            if connection?.isBroken ?? true { connection = try? RedisConnection(address) }
            execute(job, connection: &connection)
        }
    }

    /// Runs one job to its final status on this worker thread.
    private func execute(_ job: Job, connection: inout RedisConnection?) {
        if job.control.stopReason == nil, let c = connection {
            do { try store.markRunning(id: job.id, on: c) } catch {
                log.error(
                    "jobs: cannot record RUNNING",
                    metadata: ["task_id": "\(job.id)", "kind": "\(job.request.kind.rawValue)", "error": "\(error)"])
            }
        }
        job.push(["type": "progress", "task_id": .string(job.id), "progress": 0.0])
        announceProgress(job, 0, force: true)
        var outcome: JobOutcome?
        var failure: String?
        do {
            guard job.control.stopReason == nil else { throw JobRunner.Stopped() }
            let conn = connection
            let series = try JobData.load(
                job.request.data, prefix: settings.prefix, nice: settings.workerNice,
                on: try conn ?? RedisConnection(address),
                cancelled: { job.control.stopReason != nil })
            guard job.control.stopReason == nil else { throw JobRunner.Stopped() }
            if job.request.kind == .train {
                outcome = try trainAndFile(job, series: series, connection: &connection)
            } else {
                outcome = try JobRunner.run(
                    job.request, series: series, scorer: loadModel(job.request), control: job.control,
                    backtestDone: { [weak self] in self?.countBacktests(1) })
            }
        } catch is JobRunner.Stopped {
        } catch let error as JobRunner.Failure {
            failure = error.description
        } catch let error as JobData.Failure {
            failure = error.description
        } catch let error as RedisError {
            failure = "market data unavailable: \(error)"
        } catch {
            failure = String(describing: error)
        }
        switch job.control.stopReason {
        case .cancelled?: finish(job, .cancelled, reason: "cancelled", outcome: nil, connection: connection)
        case .interrupted?: finish(job, .failed, reason: "interrupted", outcome: nil, connection: connection)
        case nil:
            if let outcome {
                finish(job, .completed, reason: nil, outcome: outcome, connection: connection)
            } else {
                finish(job, .failed, reason: failure ?? "failed", outcome: nil, connection: connection)
            }
        }
    }

    /// The scorer of the model the job names, nil for rules only.
    private func loadModel(_ request: JobRequest) throws -> (any SignalScorer)? {
        guard let reference = request.mlModel else { return nil }
        guard let modelLoader else { throw JobRunner.Failure(description: JobService.noModels) }
        do { return try modelLoader(reference) } catch {
            throw JobRunner.Failure(description: "ml_model \(reference) cannot be used: \(error)")
        }
    }

    /// Why a job naming `ml_model` is refused by a gateway without a model registry.
    static let noModels = "ml_model: this gateway has no model registry to load models from; submit without ml_model"

    /// A training job: trains on this worker thread (`trainingThreads`), then files the model
    /// through `modelSink` — once: a connection found broken is replaced first, but a call that
    /// fails after it was sent is not repeated (it may have filed the version; a second call
    /// would file another), and the job fails saying so.
    private func trainAndFile(_ job: Job, series: BarSeries, connection: inout RedisConnection?) throws -> JobOutcome {
        guard let sink = modelSink else { throw JobRunner.Failure(description: "this gateway has no model registry") }
        let record = try JobRunner.train(job.request, series: series, control: job.control, threads: settings.trainingThreads)
        guard job.control.stopReason == nil else { throw JobRunner.Stopped() }
        do {
            if connection?.isBroken ?? true { connection = try RedisConnection(address) }
            return JobRunner.trainingOutcome(version: try sink(record, connection!), record: record)
        } catch let error as APIError {
            throw JobRunner.Failure(description: "the model was not filed: \(error.message)")
        } catch {
            connection = nil
            throw JobRunner.Failure(
                description: "the model registry did not answer (\(error)); the model may not have been filed: see models.list")
        }
    }

    /// Records the final status in Redis (retrying a broken connection), then tells the
    /// submitter, then forgets the job locally. Only the first call for a job does anything.
    func finish(_ job: Job, _ status: JobStatus, reason: String?, outcome: JobOutcome?, connection: RedisConnection?) {
        condition.lock()
        if job.status.isFinal { condition.unlock(); return }
        job.status = status
        countFinished(job, status)
        condition.unlock()
        if status == .failed {
            log.warning(
                "jobs: job failed",
                metadata: [
                    "task_id": "\(job.id)", "kind": "\(job.request.kind.rawValue)", "error": "\(reason ?? "unknown")",
                ])
        }
        let headline = outcome.flatMap { JobHeadline.metrics(kind: job.request.kind, report: $0.report) }.map {
            JSONCodec.encodeString($0)
        }
        var conn = connection
        for attempt in 0..<3 {
            do {
                if conn == nil || conn!.isBroken { conn = try RedisConnection(address) }
                if let chart = outcome?.chart { try store.saveChart(id: job.id, chart, on: conn!) }
                try store.finish(
                    id: job.id, status: status, reason: reason, report: outcome?.json, csv: outcome?.csv,
                    progress: status == .completed ? 1 : nil, metrics: headline, on: conn!)
                break
            } catch {
                log.error(
                    "jobs: cannot record the final status",
                    metadata: [
                        "task_id": "\(job.id)", "kind": "\(job.request.kind.rawValue)", "status": "\(status.rawValue)",
                        "attempt": "\(attempt + 1)", "error": "\(error)",
                    ])
                conn = nil
                Thread.sleep(forTimeInterval: 0.3)
            }
        }
        var frame: JSONObject = [
            "type": "completed", "task_id": .string(job.id), "kind": .string(job.request.kind.rawValue),
            "status": .string(status.rawValue),
        ]
        if let outcome {
            job.push(["type": "progress", "task_id": .string(job.id), "progress": 1.0])
            announceProgress(job, 1, force: true)
            frame["report"] = outcome.report
        }
        if let reason { frame["reason"] = .string(reason) }
        job.push(.object(frame))
        announceCompletion(job, status, reason: reason)
        condition.lock()
        active[job.id] = nil
        condition.broadcast()
        condition.unlock()
    }

    /// Progress of a running job: a frame to the submitter and the value in Redis.
    func progress(_ job: Job, _ fraction: Double) {
        job.push(["type": "progress", "task_id": .string(job.id), "progress": .double((fraction * 10_000).rounded() / 10_000)])
        announceProgress(job, fraction)
        _ = try? pool.with { try store.setProgress(id: job.id, fraction, on: $0) }
    }

    // MARK: - maintenance

    private func maintenanceLoop() {
        var connection: RedisConnection?
        var lastBeat = DispatchTime(uptimeNanoseconds: 0)
        let tick: UInt32 = 100_000
        while true {
            condition.lock()
            let stop = stopping
            let running = active.values.filter { $0.status == .running }
            condition.unlock()
            if stop { return }
            do {
                if connection?.isBroken ?? true { connection = try RedisConnection(address) }
                let c = connection!
                let now = DispatchTime.now()
                if now.uptimeNanoseconds - lastBeat.uptimeNanoseconds >= UInt64(settings.heartbeatMillis) * 1_000_000 {
                    try store.heartbeat(instance: instance, ttlMillis: settings.heartbeatMillis * 3, on: c)
                    let failed = try store.sweep(on: c)
                    if !failed.isEmpty {
                        log.warning(
                            "jobs: interrupted jobs marked FAILED",
                            metadata: ["task_ids": "\(failed.map(\.id).joined(separator: ","))"])
                        announceInterrupted(failed)
                    }
                    lastBeat = now
                }
                if !running.isEmpty {
                    for id in try store.cancelRequested(running.map(\.id), on: c) {
                        running.first { $0.id == id }?.control.cancel(.cancelled)
                    }
                }
            } catch {
                connection = nil
            }
            usleep(tick * 2)
        }
    }
}
