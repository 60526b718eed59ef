import RedisClient

extension GatewayRuntime {
    /// The integrator's event methods (`events.publish` through its `PublishPipeline`,
    /// `events.history` on pooled connections; the pipeline is stopped with `services`), and the
    /// `UserEvents` helper the jobs and the ledger announce through.
    static func registerEvents(
        config: GatewayConfig, address: RedisAddress, methods: MethodTable, registry: MetricsRegistry,
        services: ServiceList
    ) throws -> UserEvents {
        let pool = RedisPool(address: address)
        pool.prewarm(methods.workers.size)
        let pipeline = try EventMethods.register(
            in: methods, pool: pool, prefix: config.redis.prefix, maxLength: config.redis.streamMaxlen, metrics: registry,
            pipeline: address)
        if let pipeline { services.started("publish pipeline") { pipeline.stop() } }
        return UserEvents(
            pool: RedisPool(address: address, maxIdle: 1), prefix: config.redis.prefix, maxLength: config.redis.streamMaxlen)
    }
}
