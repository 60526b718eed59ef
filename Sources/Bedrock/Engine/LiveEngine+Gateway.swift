import RedisClient

extension LiveEngine {
    /// The engine of `bedrock serve`: settings from `config` (`redis.prefix`, `engine.*`,
    /// `arbiter.*`), `signals.generate` and the model registry's methods (`models.*`) registered
    /// in `methods` (worker queue, pooled connections), new signals scored by the models
    /// deployed in `models` (`LiveModels`), given the LLM's sentiment and explanations by `llm`
    /// (nil: no provider), the engine configuration methods (`engine.*`) registered and the
    /// consumer thread started. The configuration in effect is the stored version when there is
    /// one (`EngineConfigStore`), else the file's. `engine.strategies: []` in the file disables
    /// this gateway's engine (bars are neither consumed nor traded here; `signals.generate`
    /// answers null); it still serves the `engine.*` methods.
    /// Its counters go into `metrics`. The caller stops it (`stop()`) before Redis goes away.
    public static func startForGateway(
        config: GatewayConfig, address: RedisAddress, ledger: Ledger,
        methods: MethodTable, models registry: ModelRegistry, metrics: MetricsRegistry,
        llm: (any LLMSignalHooks)? = nil
    ) throws -> LiveEngine {
        let settings = EngineSettings(config: config)
        let configs = EngineConfigStore(
            ledger: ledger, fileConfig: EngineConfiguration(strategies: settings.live, arbiter: settings.arbiter))
        let engine = try LiveEngine(
            address: address, ledger: ledger, settings: settings,
            metrics: EngineMetrics(registry: metrics), models: LiveModels(registry: registry, metrics: metrics),
            llm: llm, configs: configs)
        let pool = RedisPool(address: address)
        EngineMethods.register(in: methods, pipeline: engine.pipeline, pool: pool)
        EngineConfigMethods.register(in: methods, store: configs, pool: pool)
        ModelMethods.register(in: methods, registry: registry, pool: pool)
        if !settings.strategies.isEmpty { engine.start() }
        return engine
    }
}
