import Foundation
import JSONCodec
import RedisClient
import TradingCore

/// Backtests, optimisations and model training as jobs (docs/JOBS.md, docs/ML.md): registers `backtest.submit`,
/// `backtest.status`, `backtest.report`, `backtest.cancel`, `backtest.jobs` (the job history), `optimize.submit`, `training.submit`,
/// `training.status`, `training.cancel` (trained models are filed through `models`), `strategies.list`
/// (the strategies and parameter ranges a job may name), `klines.list` (a market's latest bars, as
/// a job would read them), `datasets.list` (the dataset files a job may name, `DatasetCatalog`) and the report export download in the gateway's method table, and
/// starts the job threads.
///
/// Wiring (in `GatewayRuntime.run`, once the Redis address is known, before serving):
/// ```swift
/// let jobs = JobsModule.register(in: methods, config: config, redis: address, metrics: registry)
/// defer { jobs.stop() }
/// ```
public enum JobsModule {
    /// Registers the job methods in `table` and starts the service; call `stop()` on the result
    /// at shutdown (running jobs become FAILED `interrupted`, the threads end).
    @discardableResult
    public static func register(
        in table: MethodTable, config: GatewayConfig, redis: RedisAddress,
        metrics: MetricsRegistry, modelLoader: (@Sendable (String) throws -> any SignalScorer)? = nil,
        models: TrainedModelSink? = nil, users: UserEvents? = nil
    ) -> JobService {
        var settings = JobSettings()
        settings.workers = config.jobs.workers
        settings.queueMax = config.jobs.queueMax
        settings.perUserMax = config.jobs.perUserMax
        settings.reportTTL = config.jobs.reportTTLS
        settings.datasetsDir = config.jobs.dataDir ?? (config.dataDir + "/datasets")
        settings.prefix = config.redis.prefix
        settings.arbiter = config.arbiter
        return register(
            in: table, settings: settings, redis: redis, metrics: metrics, modelLoader: modelLoader, models: models,
            users: users)
    }

    /// The same with explicit settings (tests).
    public static func register(
        in table: MethodTable, settings: JobSettings, redis: RedisAddress,
        metrics: MetricsRegistry = MetricsRegistry(),
        modelLoader: (@Sendable (String) throws -> any SignalScorer)? = nil, models: TrainedModelSink? = nil,
        users: UserEvents? = nil
    ) -> JobService {
        let service = JobService(
            settings: settings, redis: redis, metrics: metrics, modelLoader: modelLoader, modelSink: models, users: users)
        table.register(MethodHandler(.backtestSubmit) { [service] in service.submit(.backtest, $0) })
        table.register(MethodHandler(.optimizeSubmit) { [service] in service.submit(.optimize, $0) })
        table.register(MethodHandler(.backtestStatus) { [service] in service.status($0) })
        table.register(MethodHandler(.backtestReport) { [service] in service.report($0) })
        table.register(MethodHandler(.backtestCancel) { [service] in service.cancel($0) })
        table.register(MethodHandler(.backtestJobs) { [service] in service.history($0) })
        table.register(MethodHandler(.trainingSubmit) { [service] in service.submit(.train, $0) })
        table.register(MethodHandler(.trainingStatus) { [service] in service.status($0) })
        table.register(MethodHandler(.trainingCancel) { [service] in service.cancel($0) })
        // Constant and in memory: answered on the event loop, never behind calls waiting for Redis.
        let catalog = StrategyCatalog.list()
        table.register(inline: InlineHandler(.strategiesList) { _ in .success(catalog) })
        table.register(
            MethodHandler(.klinesList) { [service] call in
                service.withStore { try KlineHistory.list(call.params, prefix: settings.prefix, on: $0) }
            })
        // Reads files (once per file version): on the worker pool.
        let datasets = DatasetCatalog(directory: DatasetDirectory(path: settings.datasetsDir))
        table.register(MethodHandler(.datasetsList) { _ in .success(datasets.list()) })
        table.register(
            download: DownloadRoute("/v1/backtest/report/{task_id}/export", leastRole: .viewer) { [service] in
                service.export($0)
            })
        service.start()
        service.log.info(
            "jobs: \(settings.workers) worker(s), queue \(settings.queueMax), \(settings.perUserMax) per user, datasets in \(settings.datasetsDir)"
        )
        return service
    }
}
