import RedisClient

extension GatewayRuntime {
    /// The integrator's event methods (`events.publish` through its `PublishPipeline`,
    /// `events.history` on pooled connections; the pipeline is stopped with `services`), and the
    /// `UserEvents` helper the jobs and the ledger announce through (flushed with `services`).
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
        let users = UserEvents(
            pool: RedisPool(address: address, maxIdle: 1), prefix: config.redis.prefix, maxLength: config.redis.streamMaxlen)
        // Registered before the job workers, so stopped after them: their last events get written.
        services.started("user events") { users.flush(timeout: 3) }
        return users
    }
}
