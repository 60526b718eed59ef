import JSONCodec
import JWTAuth

/// `GET /v1/openapi.json`: the OpenAPI 3.1 document of every REST route, generated from the
/// route table (`RESTRoutes.table`), the download routes the modules registered and the routes
/// that need no token, with each method's documentation from `MethodDocs`. It is static: built
/// once at start and served as bytes.
enum OpenAPIDocument {
    static let path = "/v1/openapi.json"

    /// One route that needs no token.
    private struct OpenRoute {
        let path: String
        let summary: String
        let example: JSONValue?
        /// The body of its 503 answer (the probes: not ready, still starting); nil when it has none.
        var unavailable: JSONValue? = nil
    }

    private static let notReady: JSONValue = [
        "status": "not_ready", "checks": ["redis": "down", "event_loop": "up", "accepting": true], "active_connections": 0,
    ]

    private static let openRoutes: [OpenRoute] = [
        OpenRoute(path: "/health", summary: "Liveness for load balancers.", example: ["status": "healthy"]),
        OpenRoute(path: "/health/live", summary: "Liveness for orchestrators.", example: ["status": "alive"]),
        OpenRoute(
            path: "/ready", summary: "Readiness: 200 while Redis answers and the gateway is not draining, else 503.",
            example: [
                "status": "ready", "checks": ["redis": "up", "event_loop": "up", "accepting": true], "active_connections": 12,
            ], unavailable: notReady),
        OpenRoute(
            path: "/health/ready", summary: "Readiness (the same answer as /ready).",
            example: ["status": "ready", "checks": ["redis": "up"], "active_connections": 12], unavailable: notReady),
        OpenRoute(
            path: "/health/startup", summary: "Start-up probe: 503 until Redis, scripts and loops are up.",
            example: ["status": "started"],
            unavailable: [
                "status": "starting",
                "checks": [
                    "configuration": "loaded", "redis": "up", "scripts": "waiting", "service_loops": "1/2 running",
                ],
            ]),
        OpenRoute(
            path: "/metrics", summary: "Prometheus metrics (Bearer server.metrics_token when one is configured).",
            example: nil),
        OpenRoute(path: path, summary: "This document.", example: nil),
    ]

    /// The document's bytes (built once at start).
    static func bytes(downloads: [DownloadRoute]) -> [UInt8] { JSONCodec.encode(build(downloads: downloads)) }

    /// The document for the route table, `downloads` and the open routes.
    static func build(downloads: [DownloadRoute]) -> JSONValue {
        var paths = JSONObject()
        func add(_ path: String, _ verb: String, _ operation: JSONValue) {
            var item = paths[path]?.objectValue ?? JSONObject()
            item[verb.lowercased()] = operation
            paths[path] = .object(item)
        }
        for route in RESTRoutes.table {
            let doc = MethodDocs.table[route.method] ?? MethodDoc(tag: "Other", summary: route.method.rawValue, response: [:])
            add("/" + route.segments.joined(separator: "/"), route.verb, operation(route, doc))
        }
        for route in downloads {
            let path = "/" + route.segments.joined(separator: "/")
            let doc =
                MethodDocs.downloads[path]
                ?? MethodDocs.DownloadDoc(tag: "Other", summary: "A file download.", contentType: "application/octet-stream")
            add(path, "GET", download(path, segments: route.segments, role: route.leastRole, doc))
        }
        for route in openRoutes { add(route.path, "GET", open(route)) }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Bedrock gateway API", "version": "1",
                "description": .string(
                    "REST API of the Bedrock gateway. Authenticate with `Authorization: Bearer <JWT>` or, for backends, `Authorization: ApiKey <key>` (api.keys). Each operation names its least role in `x-bedrock-role`; the same methods are callable over the WebSocket (`x-bedrock-method`). Errors are `{error_code, message, timestamp, request_id}`."
                ),
            ],
            "servers": [["url": "/"]],
            "tags": .array(tags.map { ["name": .string($0)] }),
            "security": [["bearerAuth": []], ["apiKeyAuth": []]],
            "paths": .object(paths),
            "components": components,
        ]
    }

    private static let tags = [
        "Integrator", "Markets", "Signals", "Positions", "Trades", "Account", "Stats", "Risk", "Jobs", "Research", "Models",
        "LLM", "Engine", "Operations",
    ]

    private static func operation(_ route: RESTRoutes.Route, _ doc: MethodDoc) -> JSONValue {
        let role = route.method.leastRole.rawValue
        var description = "Least role: **\(role)**. Socket method: `\(route.method.rawValue)`."
        if let details = doc.details { description += "\n\n" + details }
        var op: JSONObject = [
            "tags": [.string(doc.tag)], "summary": .string(doc.summary), "description": .string(description),
            "operationId": .string(route.method.rawValue), "x-bedrock-role": .string(role),
            "x-bedrock-method": .string(route.method.rawValue),
        ]
        let pathNames = route.segments.compactMap(parameterName)
        var parameters = pathNames.map { name in pathParameter(name, doc.fields) }
        let rest = doc.fields.filter { !pathNames.contains($0.name) }
        if route.verb == "GET" {
            parameters += rest.map(queryParameter)
        } else if !rest.isEmpty {
            op["requestBody"] = requestBody(rest)
        }
        if !parameters.isEmpty { op["parameters"] = .array(parameters) }
        var responses: JSONObject = [
            "200": [
                "description": "OK",
                "content": ["application/json": ["schema": doc.response.exampleSchema, "example": doc.response]],
            ]
        ]
        let statuses = op["requestBody"] == nil ? methodErrors : methodErrors + ["413"]
        for status in statuses.sorted() { responses[status] = errorReference(status) }
        op["responses"] = .object(responses)
        return .object(op)
    }

    /// The shared error answers of every method route (413 too when it takes a body).
    private static let methodErrors = ["400", "401", "403", "404", "409", "429", "500", "503"]

    private static let fileSchema: JSONValue = ["schema": ["type": "string"]]

    private static func download(_ path: String, segments: [String], role: Role, _ doc: MethodDocs.DownloadDoc) -> JSONValue {
        let pathNames = segments.compactMap(parameterName)
        let parameters =
            pathNames.map { pathParameter($0, doc.fields) }
            + doc.fields.filter { !pathNames.contains($0.name) }.map(queryParameter)
        var op: JSONObject = [
            "tags": [.string(doc.tag)], "summary": .string(doc.summary),
            "description": .string(
                "Least role: **\(role.rawValue)**. REST only: answers a file (`Content-Disposition: attachment`)."),
            "operationId": .string("download" + path.replacingSlashes), "x-bedrock-role": .string(role.rawValue),
        ]
        if !parameters.isEmpty { op["parameters"] = .array(parameters) }
        var responses: JSONObject = [
            "200": ["description": "The file", "content": .object(JSONObject([(doc.contentType, fileSchema)]))]
        ]
        for status in ["400", "401", "403", "404", "409", "500", "503"] { responses[status] = errorReference(status) }
        op["responses"] = .object(responses)
        return .object(op)
    }

    private static func open(_ route: OpenRoute) -> JSONValue {
        let content: JSONValue =
            if let example = route.example {
                ["application/json": ["schema": example.exampleSchema, "example": example]]
            } else if route.path == "/metrics" {
                ["text/plain": ["schema": ["type": "string"]]]
            } else {
                ["application/json": ["schema": ["type": "object"]]]
            }
        var responses: JSONObject = ["200": ["description": "OK", "content": content]]
        if let unavailable = route.unavailable {
            responses["503"] = [
                "description": "Not ready (or not started) yet: the same shape, with the checks that fail.",
                "content": ["application/json": ["schema": unavailable.exampleSchema, "example": unavailable]],
            ]
        }
        if route.path == "/metrics" { responses["401"] = errorReference("401") }
        return [
            "tags": ["Operations"], "summary": .string(route.summary), "description": "No authentication.",
            "operationId": .string("open" + route.path.replacingSlashes), "x-bedrock-role": "NONE", "security": [],
            "responses": .object(responses),
        ]
    }

    private static func parameterName(_ segment: String) -> String? {
        segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
    }

    private static func pathParameter(_ name: String, _ fields: [FieldDoc]) -> JSONValue {
        let field = fields.first { $0.name == name } ?? .required(name, .string, name)
        return ["name": .string(name), "in": "path", "required": true, "schema": field.schema]
    }

    private static func queryParameter(_ field: FieldDoc) -> JSONValue {
        ["name": .string(field.name), "in": "query", "required": .bool(field.required), "schema": field.schema]
    }

    private static func requestBody(_ fields: [FieldDoc]) -> JSONValue {
        let properties = JSONObject(fields.map { ($0.name, $0.schema) })
        var schema: JSONObject = ["type": "object", "properties": .object(properties)]
        let required = fields.filter(\.required).map { JSONValue.string($0.name) }
        if !required.isEmpty { schema["required"] = .array(required) }
        let example = JSONObject(fields.compactMap { field in field.example.map { (field.name, $0) } })
        return [
            "required": .bool(!required.isEmpty),
            "content": ["application/json": ["schema": .object(schema), "example": .object(example)]],
        ]
    }

    /// Status → the name of its shared response in `components.responses`.
    private static let errorNames: [String: (name: String, code: String, words: String)] = [
        "400": ("BadRequest", "BAD_REQUEST", "Malformed request or a bad parameter (named in the message)."),
        "401": ("Unauthenticated", "UNAUTHENTICATED", "Missing, bad or expired token, or an unknown API key."),
        "403": ("Forbidden", "FORBIDDEN", "The caller's role may not do this."),
        "404": ("NotFound", "NOT_FOUND", "No such resource."),
        "409": ("Conflict", "CONFLICT", "State conflict (e.g. an idempotency key reused with other data)."),
        "413": ("PayloadTooLarge", "PAYLOAD_TOO_LARGE", "The request body is over the size limit."),
        "429": ("RateLimited", "RATE_LIMITED", "Too many requests or jobs."),
        "500": ("Internal", "INTERNAL", "An unexpected failure on the gateway (its request_id is in the log)."),
        "503": ("Unavailable", "UNAVAILABLE", "Redis unreachable or no answer in time; retry."),
    ]

    private static func errorReference(_ status: String) -> JSONValue {
        ["$ref": .string("#/components/responses/\(errorNames[status]!.name)")]
    }

    private static var components: JSONValue {
        var responses = JSONObject()
        for status in errorNames.keys.sorted() {
            let error = errorNames[status]!
            responses[error.name] = [
                "description": .string(error.words),
                "content": [
                    "application/json": [
                        "schema": ["$ref": "#/components/schemas/Error"],
                        "example": [
                            "error_code": .string(error.code), "message": .string(error.words),
                            "timestamp": "2026-12-07T15:00:00.000Z", "request_id": "3f2a9c1e-1a",
                        ],
                    ]
                ],
            ]
        }
        return [
            "securitySchemes": [
                "bearerAuth": [
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A JWT with `sub` and `role` (bedrock token, or your identity provider).",
                ],
                "apiKeyAuth": [
                    "type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "`Authorization: ApiKey <key>` with a key of api.keys (bedrock apikey makes one); REST only.",
                ],
            ],
            "schemas": [
                "Error": [
                    "type": "object", "required": ["error_code", "message", "timestamp", "request_id"],
                    "properties": [
                        "error_code": ["type": "string"], "message": ["type": "string"],
                        "timestamp": ["type": "string", "format": "date-time"], "request_id": ["type": "string"],
                        "details": ["type": "object"],
                    ],
                ]
            ],
            "responses": .object(responses),
        ]
    }
}

extension String {
    /// `/v1/a/{b}` → `_v1_a__b_`: a path as part of an operation id.
    fileprivate var replacingSlashes: String {
        String(map { $0 == "/" || $0 == "{" || $0 == "}" || $0 == "." ? "_" : $0 })
    }
}
