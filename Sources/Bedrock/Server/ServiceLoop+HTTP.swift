import Foundation
import JSONCodec
import Transport

/// HTTP on the loop: health, readiness, metrics, the `/v1` API gate and static files.
extension ServiceLoop {
    static let maxBodyBytes = 1 << 20
    /// Bodies up to this size are parsed on the loop (microseconds); larger ones (a model
    /// import) on the worker that runs the call.
    static let maxBodyParsedOnLoop = 64 << 10
    /// The body limit of `POST /v1/models/import` for an ADMIN: an XGBoost model of a few hundred
    /// deep trees is megabytes of JSON (300 trees of depth 6: about 2 MB).
    static let maxModelImportBytes = 32 << 20
    /// The route that takes `maxModelImportBytes`.
    static let modelImportPath = "/v1/models/import"

    /// The body limit of a request to `path` from the bearer of the request's token:
    /// `maxModelImportBytes` for an ADMIN importing a model, `maxBodyBytes` for everything else
    /// (so no other caller can make the gateway hold more than 1 MiB per request).
    func bodyLimit(_ wsi: WSI, path: String) -> Int {
        guard path == ServiceLoop.modelImportPath, case .success(let identity) = bearerIdentity(wsi),
            identity.role == .admin
        else { return ServiceLoop.maxBodyBytes }
        return ServiceLoop.maxModelImportBytes
    }
    /// The routes for load balancers, kubelets and scrapers: no auth, GET and HEAD only, their
    /// access lines at `debug` (`AccessLog.isProbe`).
    static let probeRoutes: Set<String> = [
        "/health", "/ready", "/metrics", "/health/live", "/health/ready", "/health/startup",
    ]

    func httpRequest(_ wsi: WSI, path: String) -> Int32 {
        if let earlier = exchanges[wsi] { forget(earlier) }  // its late answer has nowhere to go
        nextSerial += 1
        let exchange = HTTPExchange(wsi: wsi, serial: nextSerial, requestID: HTTPExchange.requestID(from: wsi))
        exchange.started = now()
        exchange.path = path
        exchange.method = wsi.requestMethod
        exchange.origin = wsi.header(.origin)
        exchanges[wsi] = exchange
        pendingExchanges[exchange.serial] = exchange
        if let refusal = HTTPRequestCheck.headRefusal(wsi) { return refuse(exchange, refusal.code, refusal.message) }
        if shuttingDown, !ServiceLoop.answersWhileDraining(exchange.pathWithoutQuery) {
            return refuse(exchange, .unavailable, "this gateway is draining (shutting down); retry on another")
        }
        if exchange.mayHaveBody {
            exchange.bodyLimit = bodyLimit(wsi, path: exchange.pathWithoutQuery)
            switch HTTPRequestCheck.body(
                contentLength: wsi.header(.contentLength), transferEncoding: wsi.header(.transferEncoding),
                maxBytes: exchange.bodyLimit)
            {
            case .refused(let code, let message): return refuse(exchange, code, message)
            case .none: exchange.awaitingBody = false
            case .length: exchange.awaitingBody = true
            }
            if path.hasPrefix("/v1/"), path != OpenAPIDocument.path, let failure = authFailure(wsi) {
                return respond(exchange, route: "v1", .error(.unauthenticated, failure, requestID: exchange.requestID))
            }
            if !exchange.awaitingBody { return route(exchange) }  // no body follows
            return 0  // wait for the body
        }
        return route(exchange)
    }

    /// Answer a request refused before routing at once, with `connection: close`: a body it
    /// announced is read and dropped, never waited for beyond a few seconds; without one the
    /// connection closes now.
    private func refuse(_ exchange: HTTPExchange, _ code: ErrorCode, _ message: String) -> Int32 {
        exchange.response = .error(code, message, requestID: exchange.requestID)
        exchange.route = "other"
        exchange.closing = true
        pendingExchanges[exchange.serial] = nil
        record(exchange, route: exchange.route, status: code.httpStatus)
        guard exchange.writeResponse(corsOrigin: allowedOrigin(exchange.origin)), exchange.mayHaveBody else {
            exchanges[exchange.wsi] = nil
            return -1
        }
        exchange.wsi.killAfter(seconds: ServiceLoop.refusedBodyGraceSeconds)
        return 0
    }

    /// Seconds a refused request's body may keep arriving (read and dropped) after the answer.
    static let refusedBodyGraceSeconds = 5

    func httpBody(_ wsi: WSI, chunk: UnsafeRawBufferPointer) -> Int32 {
        guard let exchange = exchanges[wsi], !exchange.closing else { return 0 }
        if exchange.body.count + chunk.count > exchange.bodyLimit { exchange.bodyTooLarge = true; return 0 }
        exchange.body.append(contentsOf: chunk)
        return 0
    }

    func httpBodyComplete(_ wsi: WSI) -> Int32 {
        guard let exchange = exchanges[wsi] else { return 0 }
        if exchange.closing { return -1 }  // refused: answered already
        guard !exchange.routed, exchange.response == nil else { return 0 }
        exchange.awaitingBody = false
        if exchange.bodyTooLarge {
            return respond(
                exchange, route: "other",
                .error(.payloadTooLarge, "request body over \(exchange.bodyLimit) bytes", requestID: exchange.requestID))
        }
        return route(exchange)
    }

    private func route(_ exchange: HTTPExchange) -> Int32 {
        exchange.routed = true
        let id = exchange.requestID
        let path = exchange.path
        if exchange.method == "OPTIONS" {
            var response = HTTPResponse(status: 204, body: [])
            response.headers = [
                ("access-control-allow-methods:", "GET, POST, OPTIONS"),
                ("access-control-allow-headers:", "Authorization, Content-Type, X-Request-ID"),
                ("access-control-max-age:", "600"),
            ]
            return respond(exchange, route: "options", response)
        }
        if ServiceLoop.probeRoutes.contains(path), exchange.method != "GET", exchange.method != "HEAD" {
            return respond(exchange, route: path, .methodNotAllowed(exchange, allow: ["GET", "HEAD"]))
        }
        switch path {
        case "/health":
            var health = HTTPResponse.json(200, ["status": "healthy"])
            if offersDevSignIn(exchange) { health.headers = [("x-dev-sign-in:", "available")] }
            return respond(exchange, route: "/health", health)
        case "/health/live":
            return respond(exchange, route: path, .json(200, ["status": "alive"]))
        case "/ready", "/health/ready":
            return respond(exchange, route: path, readiness())
        case "/health/startup":
            let (status, body) = startup?.answer() ?? (200, ["status": "started"])
            return respond(exchange, route: path, .json(status, body))
        case "/metrics":
            if let expected = options.server.metricsToken,
                !HTTPRequestCheck.constantTimeEquals(HTTPExchange.bearerToken(exchange.wsi) ?? "", expected)
            {
                return respond(
                    exchange, route: "/metrics",
                    .error(.unauthenticated, "/metrics needs Authorization: Bearer <server.metrics_token>", requestID: id))
            }
            return gatherMetrics(exchange)
        case DevSignIn.path:
            return devToken(exchange)
        case OpenAPIDocument.path:
            return serveOpenAPI(exchange)
        case "/ws":
            return respond(
                exchange, route: "/ws",
                .error(.badRequest, "/ws expects a WebSocket upgrade (subprotocol bedrock.v1)", requestID: id))
        default:
            break
        }
        if path == "/v1" || path.hasPrefix("/v1/") {
            let identity: Identity
            switch bearerIdentity(exchange.wsi) {
            case .failure(let refusal):
                return respond(exchange, route: "v1", .error(.unauthenticated, refusal.reason, requestID: id))
            case .success(let who): identity = who
            }
            exchange.subject = identity.subject
            exchange.apiKeyName = identity.apiKeyName
            return callREST(exchange, identity: identity)
        }
        guard exchange.method == "GET" || exchange.method == "HEAD" else {
            return respond(exchange, route: "static", .methodNotAllowed(exchange, allow: ["GET", "HEAD"]))
        }
        guard let file = staticFiles.resolve(path) else {
            return respond(exchange, route: "static", .error(.notFound, "no such file: \(path)", requestID: id))
        }
        return serveFile(exchange, file.path, file.contentType)
    }

    /// The answer of `/ready` and `/health/ready` (one code path): 200 `ready` while Redis
    /// answers and the gateway is not shutting down, else 503 `not_ready`.
    private func readiness() -> HTTPResponse {
        let redisUp = source.isUp && methods.redisAnswering
        let up = redisUp && !shuttingDown
        var checks: JSONObject = [
            "redis": .string(redisUp ? "up" : "down"), "event_loop": "up", "accepting": .bool(!shuttingDown),
        ]
        // Informational: a stale market does not take the gateway out of service.
        if let marketData = methods.marketData { checks["market_data"] = marketData.readiness }
        // Informational too: an open circuit means fallbacks, not an unusable gateway.
        if let dependencies = methods.circuits?.readiness { checks["dependencies"] = dependencies }
        let body: JSONValue = [
            "status": .string(up ? "ready" : "not_ready"), "checks": .object(checks),
            "active_connections": .int(Int64(census.totalAuthenticated)),
        ]
        return .json(up ? 200 : 503, body)
    }

    /// `/metrics`: every loop publishes its counters and samples its gauges on its own thread;
    /// the page is rendered and answered from this loop once all parts are in.
    private func gatherMetrics(_ exchange: HTTPExchange) -> Int32 {
        exchange.route = "/metrics"
        let loops = siblings.isEmpty ? [self] : siblings
        let gather = MetricsGather(parts: loops.count)
        let serial = exchange.serial
        for loop in loops {
            loop.post { [self, loop] in
                guard let total = gather.add(loop.metricsSample()) else { return }
                respondLater(toExchange: serial) { [self] in
                    var response = HTTPResponse(status: 200, body: Array(renderMetrics(total).utf8))
                    response.contentType = "text/plain; version=0.0.4; charset=utf-8"
                    return response
                }
            }
        }
        return 0
    }

    /// True when `/dev/token` answers this peer (dev mode, loopback). `/health` then carries
    /// `x-dev-sign-in: available`, so the dashboard learns it without a request that can 404.
    private func offersDevSignIn(_ exchange: HTTPExchange) -> Bool {
        devSignIn != nil && DevSignIn.isLoopback(exchange.wsi.peerAddress())
    }

    /// `GET|POST /dev/token`: dev mode and loopback peers only, a 404 anywhere else.
    private func devToken(_ exchange: HTTPExchange) -> Int32 {
        let id = exchange.requestID
        guard let devSignIn, offersDevSignIn(exchange) else {
            return respond(exchange, route: "static", .error(.notFound, "no such file: \(exchange.path)", requestID: id))
        }
        switch exchange.method {
        case "GET", "HEAD":
            return respond(exchange, route: DevSignIn.path, .json(200, devSignIn.describe()))
        case "POST":
            switch devSignIn.mint(body: exchange.body) {
            case .success(let answer): return respond(exchange, route: DevSignIn.path, .json(200, answer))
            case .failure(let error):
                return respond(exchange, route: DevSignIn.path, .error(error.code, error.message, requestID: id))
            }
        default:
            return respond(exchange, route: DevSignIn.path, .methodNotAllowed(exchange, allow: ["GET", "HEAD", "POST"]))
        }
    }

    /// nil when the request carries a valid bearer token, else why not.
    private func authFailure(_ wsi: WSI) -> String? {
        if case .failure(let refusal) = bearerIdentity(wsi) { return refusal.reason }
        return nil
    }

    func bearerIdentity(_ wsi: WSI) -> Result<Identity, AuthRefusal> {
        if let byKey = apiKeyIdentity(wsi) { return byKey }
        guard let token = HTTPExchange.bearerToken(wsi) else {
            return .failure(
                AuthRefusal("missing bearer token (Authorization: Bearer <JWT>, or ApiKey <key> for a key of api.keys)"))
        }
        return authenticate(token)
    }

    /// A `/v1` call: route → method of the shared table, parameters from the path, the query and
    /// a JSON object body; answered from a worker, never on the loop.
    private func callREST(_ exchange: HTTPExchange, identity: Identity) -> Int32 {
        let id = exchange.requestID
        if exchange.method == "GET" || exchange.method == "HEAD",
            let (route, pathParams) = methods.downloads.lazy.compactMap({ r in r.match(exchange.path).map { (r, $0) } }).first
        {
            return callDownload(exchange, route: route, pathParams: pathParams, identity: identity)
        }
        guard let (method, pathParams) = RESTRoutes.match(verb: exchange.method, path: exchange.path) else {
            var allowed = RESTRoutes.verbs(for: exchange.path)
            if !allowed.contains("GET"), methods.downloads.contains(where: { $0.match(exchange.path) != nil }) {
                allowed += ["GET", "HEAD"]
            }
            if !allowed.isEmpty { return respond(exchange, route: "v1", .methodNotAllowed(exchange, allow: allowed)) }
            return respond(
                exchange, route: "v1", .error(.notFound, "no route \(exchange.method) \(exchange.path)", requestID: id))
        }
        var params = JSONObject()
        for (name, value) in exchange.wsi.queryArguments() { params[name] = .string(value) }
        if exchange.body.count > ServiceLoop.maxBodyParsedOnLoop {
            return callRESTParsingOnWorker(exchange, method: method, query: params, pathParams: pathParams, identity: identity)
        }
        if !exchange.body.isEmpty {
            guard let body = try? JSONCodec.parse(exchange.body), let object = body.objectValue else {
                // A caller who may not call the method hears that, not what is wrong with the body.
                let error =
                    methods.refusal(method, role: identity.role) ?? APIError(.badRequest, "the body must be a JSON object")
                return respond(exchange, route: method.rawValue, .error(error.code, error.message, requestID: id))
            }
            for (name, value) in object.members { params[name] = value }
        }
        for (name, value) in pathParams { params[name] = .string(value) }
        let serial = exchange.serial
        exchange.route = method.rawValue
        let call = MethodCall(subject: identity.subject, role: identity.role, params: params)
        let answerNow = methods.invoke(method, call) { [self] result in
            respondLater(toExchange: serial) { ServiceLoop.response(result, requestID: id) }
        }
        if let answerNow { return respond(exchange, route: method.rawValue, ServiceLoop.response(answerNow, requestID: id)) }
        awaitAnswer(serial, .http, method: method)
        return 0
    }

    /// A call whose body is too large to parse on the loop (a model import): the worker parses
    /// it and merges the parameters in the loop's order (query, body, path) before the handler
    /// runs. The role is checked before, so a caller who may not call the method hears that.
    private func callRESTParsingOnWorker(
        _ exchange: HTTPExchange, method: Method, query: JSONObject, pathParams: [(String, String)], identity: Identity
    ) -> Int32 {
        let id = exchange.requestID, serial = exchange.serial, body = exchange.body
        exchange.route = method.rawValue
        let call = MethodCall(subject: identity.subject, role: identity.role, params: query)
        let answerNow = methods.invoke(
            method, call,
            preparing: { call in
                guard let value = try? JSONCodec.parse(body), let object = value.objectValue else {
                    return .failure(APIError(.badRequest, "the body must be a JSON object"))
                }
                var params = call.params
                for (name, value) in object.members { params[name] = value }
                for (name, value) in pathParams { params[name] = .string(value) }
                return .success(MethodCall(subject: call.subject, role: call.role, params: params))
            }
        ) { [self] result in
            respondLater(toExchange: serial) { ServiceLoop.response(result, requestID: id) }
        }
        if let answerNow { return respond(exchange, route: method.rawValue, ServiceLoop.response(answerNow, requestID: id)) }
        awaitAnswer(serial, .http, method: method)
        return 0
    }

    private static func response(_ result: Result<JSONValue, APIError>, requestID: String) -> HTTPResponse {
        switch result {
        case .success(let value): return .json(200, value)
        case .failure(let error): return .error(error, requestID: requestID)
        }
    }

    /// Answer the exchange numbered `serial` with what `makeResponse` gives, on the loop, if the
    /// exchange is still waiting (any thread). The one way late answers reach an HTTP client: an
    /// exchange that ended meanwhile gets nothing, and the next request on the same keep-alive
    /// connection never gets an answer meant for an earlier one.
    func respondLater(toExchange serial: UInt64, _ makeResponse: @escaping @Sendable () -> HTTPResponse) {
        post { [self] in
            _ = answerArrived(serial)  // an overdue exchange was answered already: it has its response
            guard let exchange = pendingExchanges[serial], exchange.response == nil else { return }
            exchange.response = makeResponse()
            exchange.wsi.requestWritable()
        }
    }

    /// Answer in the callback of the exchange's connection: written at once (no writable
    /// round trip) unless a request body is still arriving, then at the next writable callback.
    func respond(_ exchange: HTTPExchange, route: String, _ response: HTTPResponse) -> Int32 {
        exchange.route = route
        exchange.response = response
        if exchange.awaitingBody {
            exchange.wsi.requestWritable()
            return 0
        }
        return finish(exchange)
    }

    /// Write the exchange's response and complete the HTTP transaction (service thread, in a
    /// callback of its connection). The lws return value: -1 closes the connection.
    private func finish(_ exchange: HTTPExchange) -> Int32 {
        guard let response = exchange.response else { return 0 }
        forget(exchange)
        record(exchange, route: exchange.route, status: response.status)
        if shuttingDown { exchange.closing = true }  // `connection: close`: the next request goes elsewhere
        guard exchange.writeResponse(corsOrigin: allowedOrigin(exchange.origin)) else { return -1 }
        return exchange.wsi.completeHTTPTransaction()
    }

    /// A `/v1` GET answered with a file: `Content-Disposition: attachment` with the file name.
    private func callDownload(
        _ exchange: HTTPExchange, route: DownloadRoute, pathParams: [(String, String)],
        identity: Identity
    ) -> Int32 {
        var params = JSONObject()
        for (name, value) in exchange.wsi.queryArguments() { params[name] = .string(value) }
        for (name, value) in pathParams { params[name] = .string(value) }
        let serial = exchange.serial, id = exchange.requestID
        exchange.route = "download"
        awaitAnswer(serial, .http, method: nil)  // before dispatching: a refusal comes back through the inbox too
        methods.dispatch(download: route, MethodCall(subject: identity.subject, role: identity.role, params: params)) {
            [self] result in
            respondLater(toExchange: serial) {
                switch result {
                case .success(let file):
                    var response = HTTPResponse(status: 200, body: file.body)
                    response.contentType = file.contentType
                    let safeName = String(
                        file.filename.unicodeScalars.filter { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 32 })
                    response.headers = [("content-disposition:", "attachment; filename=\"\(safeName)\"")]
                    return response
                case .failure(let error):
                    return .error(error.code, error.message, requestID: id)
                }
            }
        }
        return 0
    }

    private func serveFile(_ exchange: HTTPExchange, _ path: String, _ contentType: String) -> Int32 {
        var headers = "x-request-id: \(exchange.requestID)\r\n"
        if let origin = allowedOrigin(exchange.origin) { headers += "access-control-allow-origin: \(origin)\r\nvary: Origin\r\n" }
        record(exchange, route: "static", status: 200)
        return exchange.wsi.serveFile(path, contentType: contentType, extraHeaders: headers)
    }

    /// A `CONNECT` request (lws hands these over as raw sockets, no request headers left to
    /// read): 405 with the SPEC §4 body, as the raw bytes to write before closing.
    func tunnelRefusal() -> [UInt8] {
        let id = HTTPExchange.newRequestID()
        let body = JSONCodec.encode(
            HTTPResponse.errorBody(.methodNotAllowed, "CONNECT is not allowed (this server is no proxy)", requestID: id))
        metrics.observeHTTP(route: "other", status: ErrorCode.methodNotAllowed.httpStatus, seconds: 0)
        let head =
            "HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json; charset=utf-8\r\n"
            + "content-length: \(body.count)\r\nallow: GET, HEAD, POST, OPTIONS\r\nx-request-id: \(id)\r\n"
            + "cache-control: no-store\r\nconnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    func httpWritable(_ wsi: WSI) -> Int32 {
        guard let exchange = exchanges[wsi], !exchange.closing else { return 0 }
        return finish(exchange)
    }

    func httpClosed(_ wsi: WSI) {
        if let exchange = exchanges[wsi] { forget(exchange) }
        upgrades[wsi] = nil
        closedUpgrades[wsi] = nil
    }

    /// The exchange is answered or its connection gone: late answers for it are dropped.
    private func forget(_ exchange: HTTPExchange) {
        exchanges[exchange.wsi] = nil
        pendingExchanges[exchange.serial] = nil
    }

    /// The Origin to echo when it is in `server.cors_origins` (or `*` is).
    func allowedOrigin(_ origin: String?) -> String? {
        guard let origin, !options.corsOrigins.isEmpty else { return nil }
        if options.corsOrigins.contains("*") { return "*" }
        return options.corsOrigins.contains(origin) ? origin : nil
    }

    /// Count the answered request and write its access line (`AccessLog`: `info`, the probe
    /// routes at `debug`, nothing with `log.requests` false).
    private func record(_ exchange: HTTPExchange, route: String, status: Int) {
        let seconds = now() - exchange.started
        metrics.observeHTTP(route: route, status: status, seconds: seconds)
        let path = exchange.pathWithoutQuery
        guard accessLog.wants(path) else { return }
        accessLog.write(
            AccessEntry(
                requestID: exchange.requestID, method: exchange.method, path: path, status: status,
                micros: Int((seconds * 1_000_000).rounded()), subject: exchange.subject ?? "",
                apiKeyName: exchange.apiKeyName))
    }
}
