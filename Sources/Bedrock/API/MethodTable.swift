import GatewayCore
import JSONCodec
import JWTAuth
import RedisClient

/// A failed API call: an error code of SPEC §4 and a message for the client, plus optional
/// `details` written as the error body's `details` member (e.g. a risk refusal's `reasons`).
public struct APIError: Error, Sendable, Equatable {
    public let code: ErrorCode
    public let message: String
    public let details: JSONObject?
    public init(_ code: ErrorCode, _ message: String, details: JSONObject? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }
}

/// One call of an API method, whichever transport it came from.
public struct MethodCall: Sendable {
    /// The caller's token subject and role.
    public let subject: String
    public let role: Role
    /// Parameters: socket `params`, or REST path parameters, query arguments and JSON body.
    public let params: JSONObject
    /// Sends a frame (e.g. `progress`, `completed`) to the connection that made the call, from any
    /// thread, for as long as it stays open; does nothing for REST calls or once it has closed.
    public let push: @Sendable (JSONValue) -> Void

    public init(
        subject: String, role: Role, params: JSONObject,
        push: @escaping @Sendable (JSONValue) -> Void = { _ in }
    ) {
        self.subject = subject
        self.role = role
        self.params = params
        self.push = push
    }
}

/// The work behind one method. Handlers run on the worker pool, never on the event loop, so
/// they may block on Redis or burn CPU — within the table's `callTimeout`: their pooled Redis
/// commands end by the call's deadline (`RedisDeadline`), and the transports answer UNAVAILABLE
/// at that deadline whatever the handler is doing. A method that needs no Redis and no time
/// registers an `InlineHandler` instead and never waits for a worker.
public struct MethodHandler: Sendable {
    public let method: Method
    public let run: @Sendable (MethodCall) -> Result<JSONValue, APIError>
    public init(_ method: Method, run: @escaping @Sendable (MethodCall) -> Result<JSONValue, APIError>) {
        self.method = method
        self.run = run
    }
}

/// A fast path of a method for callers on the event loop: pure computation on data already in
/// memory, microseconds, no I/O and no lock held for long. Returns nil when it cannot answer that
/// way (e.g. the cached data is stale); the call then goes to the worker pool as usual.
public struct InlineHandler: Sendable {
    public let method: Method
    public let run: @Sendable (MethodCall) -> Result<JSONValue, APIError>?
    public init(_ method: Method, run: @escaping @Sendable (MethodCall) -> Result<JSONValue, APIError>?) {
        self.method = method
        self.run = run
    }
}

/// A method answered through a queue of its own instead of the worker pool: `run` is called on
/// the event loop, must return at once (it only queues the call) and calls `completion` later on
/// any thread, once. For a method whose calls are cheaper batched (`events.publish`: one Redis
/// round trip for every publish waiting). The transports' watchdog answers UNAVAILABLE at the
/// call's `answerTime` as for any call; a later answer is dropped.
public struct QueuedHandler: Sendable {
    public let method: Method
    public let run: @Sendable (MethodCall, @escaping @Sendable (Result<JSONValue, APIError>) -> Void) -> Void
    public init(
        _ method: Method,
        run: @escaping @Sendable (MethodCall, @escaping @Sendable (Result<JSONValue, APIError>) -> Void) -> Void
    ) {
        self.method = method
        self.run = run
    }
}

/// The one method table that serves both the socket (`request` frames) and REST (`/v1/...`):
/// same roles (`Method.leastRole`), same answers. Methods are registered by the modules that
/// implement them; a method with no handler answers NOT_FOUND.
///
/// Every call that goes to a worker has a deadline, `callTimeout` after it was handed over
/// (`redis.command_timeout_ms`): a call still queued when it passes is answered UNAVAILABLE
/// without running, one that runs has its Redis commands cut off by then. While `redisHealth`
/// says Redis is not answering, such calls are refused UNAVAILABLE at once instead of each
/// waiting out its timeout.
///
/// A method that waits on something slower than Redis (an LLM call) gets an allowance
/// (`allowLonger`): its answer may take that much longer (`answerTime(for:)`, which the
/// transports' watchdog uses too), while its wait for a worker and the Redis commands it makes
/// under the table's bound stay within `callTimeout` as for every call.
public final class MethodTable: @unchecked Sendable {
    // Sound: handlers, allowances, `redisHealth` and `marketData` are set before the gateway
    // starts serving and only read after.
    private var handlers: [Method: MethodHandler] = [:]
    /// Extra seconds beyond `callTimeout` a method's answer may take (`allowLonger`).
    private var allowances: [Method: Double] = [:]
    private var inline: [Method: InlineHandler] = [:]
    private var queued: [Method: QueuedHandler] = [:]
    private(set) var downloads: [DownloadRoute] = []
    /// Where handlers run: never on an event loop.
    let workers: WorkerPool
    /// Seconds a worker-run call may take from being handed over to its answer.
    let callTimeout: Double
    /// The monotonic clock deadlines are measured on (tests move a `ManualClock`).
    private let clock: any GatewayClock
    /// Whether Redis answers now; nil: assume it does (tests and tools).
    var redisHealth: RedisHealth?
    /// The live ingest, when markets are configured (`checks.market_data` of `/ready`).
    var marketData: MarketIngest?
    /// The outside dependencies' circuits (`checks.dependencies` of `/ready`).
    var circuits: DependencyCircuits?

    /// A table whose handlers run on `workers` (`bedrock serve` passes a pool of
    /// `server.api_workers` threads; tests and tools share `WorkerPool.shared`), each call
    /// answered within `callTimeout` seconds on `clock`.
    public init(
        workers: WorkerPool = .shared, callTimeout: Double = GatewayConfig.Redis().commandTimeout,
        clock: any GatewayClock = SystemClock()
    ) {
        self.workers = workers
        self.callTimeout = callTimeout
        self.clock = clock
    }

    /// False while `redisHealth` knows Redis is not answering (for `/ready`).
    var redisAnswering: Bool { redisHealth?.isAnswering ?? true }

    /// Add or replace a handler (before serving).
    public func register(_ handler: MethodHandler) { handlers[handler.method] = handler }

    /// Let `method`'s answer take `seconds` longer than `callTimeout` (before serving): for a
    /// handler that waits on an outside service after its Redis reads. Its wait for a worker and
    /// the Redis commands bound by the table still end within `callTimeout`; Redis work after
    /// the slow part binds its own deadline (`boundedLikeACall`). An UNAVAILABLE answer of such a
    /// method (the outside service failed) does not make `redisHealth` suspect Redis.
    public func allowLonger(_ method: Method, by seconds: Double) {
        allowances[method] = seconds.isFinite ? max(0, seconds) : 0
    }

    /// Seconds a worker-run call of `method` may take from being handed over to its answer:
    /// `callTimeout` plus its allowance; a download (nil) gets `callTimeout`.
    func answerTime(for method: Method?) -> Double {
        callTimeout + (method.flatMap { allowances[$0] } ?? 0)
    }

    /// Whether a call of `method` (nil: a download) answered UNAVAILABLE or late points at Redis:
    /// true unless the method has an allowance (then it is mostly the outside service).
    func blamesRedis(_ method: Method?) -> Bool { method.map { allowances[$0] == nil } ?? true }

    /// Runs `body` with pooled Redis commands bounded by `callTimeout` from now, as a fresh call's
    /// are: for the Redis work of a long method after its slow part.
    func boundedLikeACall<T>(_ body: () throws -> T) rethrows -> T {
        try RedisDeadline.bounded(by: .now + .seconds(callTimeout), body)
    }

    /// Add a GET route answered with a file download (REST only; before serving).
    public func register(download route: DownloadRoute) { downloads.append(route) }

    /// Run a download route off the loop; `completion` runs on a worker thread. The role is
    /// checked here, as for methods: transports never check roles themselves.
    func dispatch(
        download route: DownloadRoute, _ call: MethodCall,
        completion: @escaping @Sendable (Result<Download, APIError>) -> Void
    ) {
        guard call.role.satisfies(route.leastRole) else {
            completion(.failure(APIError(.forbidden, "role \(call.role.rawValue) may not download this")))
            return
        }
        if let down = refusalWhileRedisIsDown() { return completion(.failure(down)) }
        submit(nil, { route.run(call) }, then: completion)
    }

    /// Add a fast path for `method` that may answer on the calling thread (before serving).
    public func register(inline handler: InlineHandler) { inline[handler.method] = handler }

    /// Answer `method` through `handler`'s own queue instead of the worker pool (before serving);
    /// its `MethodHandler` still serves `dispatch` and calls whose parameters are finished on a
    /// worker.
    public func register(queued handler: QueuedHandler) { queued[handler.method] = handler }

    /// The one entry point of both transports (the event loop calls it, so it never blocks):
    /// checks the caller's role — the only place roles of methods are checked — and answers at
    /// once when it can (refused, no handler, or a fast path that could answer), else returns nil
    /// and the handler runs on the worker pool, `later` getting its answer on a worker thread.
    func invoke(
        _ method: Method, _ call: MethodCall,
        later: @escaping @Sendable (Result<JSONValue, APIError>) -> Void
    ) -> Result<JSONValue, APIError>? {
        if let refusal = refusal(method, call) { return .failure(refusal) }
        if let fast = inline[method], let answer = fast.run(call) { return answer }
        if let own = queued[method] {
            if let down = refusalWhileRedisIsDown() { return .failure(down) }
            own.run(call, later)
            return nil
        }
        guard let handler = handlers[method] else { return .failure(Self.notAvailable(method)) }
        if let down = refusalWhileRedisIsDown() { return .failure(down) }
        submit(method, { handler.run(call) }, then: later)
        return nil
    }

    /// `invoke` for a call whose parameters are finished on the worker, before the handler runs
    /// (a large REST body is parsed there, not on the event loop): `prepare` turns the call into
    /// the one the handler gets, or refuses it. The role is checked first, on the caller's thread.
    func invoke(
        _ method: Method, _ call: MethodCall,
        preparing prepare: @escaping @Sendable (MethodCall) -> Result<MethodCall, APIError>,
        later: @escaping @Sendable (Result<JSONValue, APIError>) -> Void
    ) -> Result<JSONValue, APIError>? {
        if let refusal = refusal(method, call) { return .failure(refusal) }
        guard let handler = handlers[method] else { return .failure(Self.notAvailable(method)) }
        if let down = refusalWhileRedisIsDown() { return .failure(down) }
        submit(method, { prepare(call).flatMap { handler.run($0) } }, then: later)
        return nil
    }

    /// The answer of `method`'s fast path alone, when it has one and can answer at once, else nil.
    func answerInline(_ method: Method, _ call: MethodCall) -> Result<JSONValue, APIError>? {
        guard refusal(method, call) == nil, let fast = inline[method] else { return nil }
        return fast.run(call)
    }

    /// Whether the method has a handler on this gateway.
    public func has(_ method: Method) -> Bool { handlers[method] != nil }

    /// Run `method`'s handler for `call` on the worker pool (no fast path); `completion` runs on
    /// a worker thread, or at once when the call is refused.
    func dispatch(
        _ method: Method, _ call: MethodCall,
        completion: @escaping @Sendable (Result<JSONValue, APIError>) -> Void
    ) {
        if let refusal = refusal(method, call) { return completion(.failure(refusal)) }
        guard let handler = handlers[method] else { return completion(.failure(Self.notAvailable(method))) }
        if let down = refusalWhileRedisIsDown() { return completion(.failure(down)) }
        submit(method, { handler.run(call) }, then: completion)
    }

    /// FORBIDDEN when the caller's role is below the method's least role.
    private func refusal(_ method: Method, _ call: MethodCall) -> APIError? { refusal(method, role: call.role) }

    /// FORBIDDEN when `role` is below the method's least role (for a transport that must answer
    /// before it can build a call, e.g. a request whose body does not parse).
    func refusal(_ method: Method, role: Role) -> APIError? {
        role.satisfies(method.leastRole) ? nil : APIError(.forbidden, "role \(role.rawValue) may not call \(method.rawValue)")
    }

    private static func notAvailable(_ method: Method) -> APIError {
        APIError(.notFound, "method \(method.rawValue) is not available on this gateway yet")
    }

    /// UNAVAILABLE while Redis is known not to answer: worker-run calls all need it.
    private func refusalWhileRedisIsDown() -> APIError? {
        guard !redisAnswering else { return nil }
        return APIError(.unavailable, "Redis is not answering; try again shortly")
    }

    /// The answer of a call that ran out of its `callTimeout`.
    var timedOut: APIError { timedOut(nil) }

    /// The answer of a call of `method` (nil: a download) that ran out of its `answerTime`.
    func timedOut(_ method: Method?) -> APIError {
        let seconds = answerTime(for: method)
        let cause = seconds > callTimeout ? "" : " (Redis did not answer in time)"
        return APIError(
            .unavailable, "no answer within \(Int((seconds * 1000).rounded())) ms\(cause); try again shortly")
    }

    /// Queues `body` (a call of `method`; nil: a download) on the worker pool (FIFO) with a
    /// deadline `callTimeout` from now; `finish` gets its answer, on the worker, after
    /// `withinDeadline` ran it.
    private func submit<T>(
        _ method: Method?, _ body: @escaping @Sendable () -> Result<T, APIError>,
        then finish: @escaping @Sendable (Result<T, APIError>) -> Void
    ) {
        let deadline = clock.read().monotonic + callTimeout
        let suspectsRedis = blamesRedis(method)
        workers.submit { [self] in finish(withinDeadline(deadline, suspectsRedis: suspectsRedis, body)) }
    }

    /// `handler`'s answer, on the worker: UNAVAILABLE without running it when `deadline` passed
    /// while the call waited for a worker, else its answer with its Redis commands bounded by the
    /// time left. An UNAVAILABLE answer makes `redisHealth` check Redis, unless `suspectsRedis`
    /// is false (a method with an allowance: its UNAVAILABLE is mostly the outside service's) or
    /// it reports a write too few replicas acknowledged (Redis answered).
    func withinDeadline<T>(
        _ deadline: Double, suspectsRedis: Bool = true, _ handler: () -> Result<T, APIError>
    ) -> Result<T, APIError> {
        let left = deadline - clock.read().monotonic
        guard left > 0 else { return .failure(timedOut) }
        let result = RedisDeadline.bounded(by: .now + .seconds(left), handler)
        if suspectsRedis, case .failure(let error) = result, error.code == .unavailable, !error.isReplicaAckFailure {
            redisHealth?.suspect()
        }
        return result
    }
}
