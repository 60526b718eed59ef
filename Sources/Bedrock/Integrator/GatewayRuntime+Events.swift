import RedisClient

extension GatewayRuntime {
    /// The integrator's event methods (`events.publish`, `events.history`) on their own pooled
    /// connections, and the `UserEvents` helper the jobs and the ledger announce through.
    static func registerEvents(
        config: GatewayConfig, address: RedisAddress, methods: MethodTable, registry: MetricsRegistry
    ) throws -> UserEvents {
        let pool = RedisPool(address: address)
        pool.prewarm(methods.workers.size)
        try EventMethods.register(
            in: methods, pool: pool, prefix: config.redis.prefix, maxLength: config.redis.streamMaxlen, metrics: registry)
        return UserEvents(
            pool: RedisPool(address: address, maxIdle: 1), prefix: config.redis.prefix, maxLength: config.redis.streamMaxlen)
    }
}
