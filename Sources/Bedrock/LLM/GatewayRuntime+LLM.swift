import RedisClient

extension GatewayRuntime {
    /// The LLM layer of `bedrock serve`: with `llm.provider` set, the service started (prompts
    /// read and checked first: a bad template stops the start); `news.publish`, `sentiment.get`,
    /// `journal.generate` and `review.generate` registered either way (without a provider the
    /// last two answer UNAVAILABLE). Nil without a provider.
    static func startLLM(
        config: GatewayConfig, ledger: Ledger, address: RedisAddress, methods: MethodTable, registry: MetricsRegistry,
        circuits: DependencyCircuits
    ) throws -> LLMService? {
        let service =
            config.llm.enabled
            ? try LLMService(
                config: config, ledger: ledger, address: address, registry: registry,
                circuit: circuits[DependencyCircuits.llm]) : nil
        let pool = RedisPool(address: address)
        LLMMethods.register(in: methods, ledger: ledger, pool: pool, service: service)
        // A journal or review call may wait for a free slot, then for the model.
        JournalMethods.register(
            in: methods, ledger: ledger, pool: pool, writer: service,
            answerWithin: config.llm.timeoutS + LLMService.interactiveSlotWait + 2)
        service?.start()
        return service
    }
}
