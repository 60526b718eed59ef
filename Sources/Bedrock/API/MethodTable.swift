import JSONCodec
import JWTAuth

/// A failed API call: an error code of SPEC §4 and a message for the client.
public struct APIError: Error, Sendable, Equatable {
    public let code: ErrorCode
    public let message: String
    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
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
/// they may block on Redis or burn CPU.
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

/// The one method table that serves both the socket (`request` frames) and REST (`/v1/...`):
/// same roles (`Method.leastRole`), same answers. Methods are registered by the modules that
/// implement them; a method with no handler answers NOT_FOUND.
public final class MethodTable: @unchecked Sendable {
    // Sound: handlers are registered before the gateway starts serving and only read after.
    private var handlers: [Method: MethodHandler] = [:]
    private var inline: [Method: InlineHandler] = [:]
    private(set) var downloads: [DownloadRoute] = []
    /// Where handlers run: never on an event loop.
    let workers: WorkerPool

    /// A table whose handlers run on `workers` (`bedrock serve` passes a pool of
    /// `server.api_workers` threads; tests and tools share `WorkerPool.shared`).
    public init(workers: WorkerPool = .shared) { self.workers = workers }

    /// Add or replace a handler (before serving).
    public func register(_ handler: MethodHandler) { handlers[handler.method] = handler }

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
        submit { completion(route.run(call)) }
    }

    /// Add a fast path for `method` that may answer on the calling thread (before serving).
    public func register(inline handler: InlineHandler) { inline[handler.method] = handler }

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
        guard let handler = handlers[method] else { return .failure(Self.notAvailable(method)) }
        submit { later(handler.run(call)) }
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
        submit { completion(handler.run(call)) }
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

    /// Runs `job` on one of the pool's threads (FIFO).
    private func submit(_ job: @escaping @Sendable () -> Void) { workers.submit(job) }
}
