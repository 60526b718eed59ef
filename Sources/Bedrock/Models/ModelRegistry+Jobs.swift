import JSONCodec
import RedisClient
import TradingCore

extension ModelRegistry {
    /// What backtest and optimisation jobs load their `ml_model` (`name@version`) with: the
    /// version's model, parsed once and cached, read over a connection of the job's own (the
    /// loader runs on the job's worker thread and opens one per call: once per job).
    func loader(address: RedisAddress) -> @Sendable (String) throws -> any SignalScorer {
        { [self] reference in try load(reference: reference, on: RedisConnection(address)) }
    }

    /// What training jobs file their models with: a new candidate version of the job's
    /// `model_name`, its data set, hyperparameters, walk-forward metrics, strategy and parameters,
    /// with `model.trained` on topic `models`.
    func sink() -> TrainedModelSink {
        { [self] record, c in
            try add(
                name: record.name, source: .trained, ensemble: record.trained.ensemble, dataset: record.dataset,
                hyperparameters: record.trained.hyperparameters, metrics: record.trained.walkForward,
                strategy: record.strategy, params: record.parameters, on: c)
        }
    }
}
