import JSONCodec
import RedisClient

/// Handlers whose work is Redis reads and scripts on a pooled connection.
extension MethodHandler {
    /// A handler for `method` that runs `body` with the call's parameters on a connection of
    /// `pool` (on the worker running the call). Errors: an `APIError` as thrown; a broken Redis
    /// connection → UNAVAILABLE "the ledger store is unreachable"; anything else → INTERNAL
    /// prefixed with `label`.
    static func pooled(
        _ method: Method, pool: RedisPool, label: String,
        _ body: @escaping @Sendable (MethodCall, LedgerParams, RedisConnection) throws -> JSONValue
    ) -> MethodHandler {
        MethodHandler(method) { call in
            do {
                return .success(try pool.with { try body(call, LedgerParams(params: call.params), $0) })
            } catch let error as APIError {
                return .failure(error)
            } catch let error as RedisError where error.breaksConnection {
                return .failure(APIError(.unavailable, "the ledger store is unreachable"))
            } catch {
                return .failure(APIError(.internal, "\(label): \(error)"))
            }
        }
    }
}
