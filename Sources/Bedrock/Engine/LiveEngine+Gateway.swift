import RedisClient

extension LiveEngine {
    /// The engine of `bedrock serve`: settings from `config` (`redis.prefix`, `engine.*`,
    /// `arbiter.*`), `signals.generate` and the model registry's methods (`models.*`) registered
    /// in `methods` (worker queue, pooled connections), new signals scored by the models
    /// deployed in `models` (`LiveModels`), given the LLM's sentiment and explanations by `llm`
    /// (nil: no provider), the consumer thread started — unless
    /// `engine.strategies` is empty, which disables the live engine (bars are then neither
    /// consumed nor traded; `signals.generate` answers null).
    /// Its counters go into `metrics`. The caller stops it (`stop()`) before Redis goes away.
    public static func startForGateway(
        config: GatewayConfig, address: RedisAddress, ledger: Ledger,
        methods: MethodTable, models registry: ModelRegistry, metrics: MetricsRegistry,
        llm: (any LLMSignalHooks)? = nil
    ) throws -> LiveEngine {
        let settings = EngineSettings(config: config)
        let engine = try LiveEngine(
            address: address, ledger: ledger, settings: settings,
            metrics: EngineMetrics(registry: metrics), models: LiveModels(registry: registry, metrics: metrics),
            llm: llm)
        let pool = RedisPool(address: address)
        EngineMethods.register(in: methods, pipeline: engine.pipeline, pool: pool)
        ModelMethods.register(in: methods, registry: registry, pool: pool)
        if !settings.strategies.isEmpty { engine.start() }
        return engine
    }
}
