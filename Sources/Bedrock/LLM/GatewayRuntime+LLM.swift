import RedisClient

extension GatewayRuntime {
    /// The LLM layer of `bedrock serve`: with `llm.provider` set, the service started (prompts
    /// read and checked first: a bad template stops the start); `news.publish`, `sentiment.get`,
    /// `journal.generate` and `review.generate` registered either way (without a provider the
    /// last two answer UNAVAILABLE). Nil without a provider.
    static func startLLM(
        config: GatewayConfig, ledger: Ledger, address: RedisAddress, methods: MethodTable, registry: MetricsRegistry
    ) throws -> LLMService? {
        let service =
            config.llm.enabled
            ? try LLMService(config: config, ledger: ledger, address: address, registry: registry) : nil
        let pool = RedisPool(address: address)
        LLMMethods.register(in: methods, ledger: ledger, pool: pool, service: service)
        service?.start()
        return service
    }
}
