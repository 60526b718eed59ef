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

    public init(subject: String, role: Role, params: JSONObject,
                push: @escaping @Sendable (JSONValue) -> Void = { _ in }) {
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
    private let workers = WorkerPool.api

    public init() {}

    /// Add or replace a handler (before serving).
    public func register(_ handler: MethodHandler) { handlers[handler.method] = handler }

    /// Add a GET route answered with a file download (REST only; before serving).
    public func register(download route: DownloadRoute) { downloads.append(route) }

    /// Run a download route off the loop; `completion` runs on a worker thread.
    func dispatch(download route: DownloadRoute, _ call: MethodCall,
                  completion: @escaping @Sendable (Result<Download, APIError>) -> Void) {
        guard call.role.satisfies(route.leastRole) else {
            completion(.failure(APIError(.forbidden, "role \(call.role.rawValue) may not download this")))
            return
        }
        submit { completion(route.run(call)) }
    }

    /// Add a fast path for `method` that may answer on the calling thread (before serving).
    public func register(inline handler: InlineHandler) { inline[handler.method] = handler }

    /// The answer of `method`'s fast path when it has one and can answer at once (never blocks:
    /// the event loop calls this), else nil and the caller uses `dispatch`. Roles are checked as
    /// `dispatch` checks them.
    func answerInline(_ method: Method, _ call: MethodCall) -> Result<JSONValue, APIError>? {
        guard let handler = inline[method], call.role.satisfies(method.leastRole) else { return nil }
        return handler.run(call)
    }

    /// Whether the method has a handler on this gateway.
    public func has(_ method: Method) -> Bool { handlers[method] != nil }

    /// Run `method` for `call` off the loop; `completion` runs on a worker thread.
    func dispatch(_ method: Method, _ call: MethodCall,
                  completion: @escaping @Sendable (Result<JSONValue, APIError>) -> Void) {
        guard call.role.satisfies(method.leastRole) else {
            completion(.failure(APIError(.forbidden, "role \(call.role.rawValue) may not call \(method.rawValue)")))
            return
        }
        guard let handler = handlers[method] else {
            completion(.failure(APIError(.notFound, "method \(method.rawValue) is not available on this gateway yet")))
            return
        }
        submit { completion(handler.run(call)) }
    }

    /// Runs `job` on one of the pool's threads (FIFO).
    private func submit(_ job: @escaping @Sendable () -> Void) { workers.submit(job) }
}
