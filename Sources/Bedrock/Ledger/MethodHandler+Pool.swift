import JSONCodec
import RedisClient

/// Handlers whose work is Redis reads and scripts on a pooled connection.
extension MethodHandler {
    /// A handler for `method` that runs `body` with the call's parameters on a connection of
    /// `pool` (on the worker running the call). Errors as `pooled(pool:label:_:)` maps them.
    static func pooled(
        _ method: Method, pool: RedisPool, label: String,
        _ body: @escaping @Sendable (MethodCall, LedgerParams, RedisConnection) throws -> JSONValue
    ) -> MethodHandler {
        MethodHandler(method) { call in
            pooled(pool: pool, label: label) { try body(call, LedgerParams(params: call.params), $0) }
        }
    }

    /// `body` on a connection of `pool`, its errors as answers: an `APIError` as thrown; a broken
    /// Redis connection → UNAVAILABLE "the ledger store is unreachable"; a write too few replicas
    /// acknowledged → UNAVAILABLE saying so; anything else → INTERNAL prefixed with `label`.
    static func pooled<T>(
        pool: RedisPool, label: String, _ body: (RedisConnection) throws -> T
    ) -> Result<T, APIError> {
        do {
            return .success(try pool.with { try body($0) })
        } catch let error as APIError {
            return .failure(error)
        } catch let error as RedisError where error.breaksConnection {
            return .failure(APIError(.unavailable, "the ledger store is unreachable"))
        } catch let error as LedgerError {
            if case let .notReplicated(acknowledged, policy, write) = error {
                return .failure(.notReplicated(error, acknowledged: acknowledged, policy: policy, write: write))
            }
            return .failure(APIError(.internal, "\(label): \(error)"))
        } catch {
            return .failure(APIError(.internal, "\(label): \(error)"))
        }
    }
}
