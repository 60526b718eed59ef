import JSONCodec

/// An HTTP response waiting to be written.
struct HTTPResponse {
    var status: Int
    var contentType: String = "application/json; charset=utf-8"
    var body: [UInt8]
    var headers: [(String, String)] = []

    /// A JSON body.
    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, body: JSONCodec.encode(value))
    }

    /// The SPEC §4 error body with its status.
    static func error(_ code: ErrorCode, _ message: String, requestID: String) -> HTTPResponse {
        json(code.httpStatus, errorBody(code, message, requestID: requestID))
    }

    /// The SPEC §4 error body of a failed call, with its `details` when it has some.
    static func error(_ error: APIError, requestID: String) -> HTTPResponse {
        json(error.code.httpStatus, errorBody(error.code, error.message, requestID: requestID, details: error.details))
    }

    /// 405 `METHOD_NOT_ALLOWED` for the exchange's method, with `Allow` listing `allow`.
    static func methodNotAllowed(_ exchange: HTTPExchange, allow: [String]) -> HTTPResponse {
        let list = allow.joined(separator: ", ")
        var response = error(
            .methodNotAllowed, "\(exchange.method) is not allowed on \(exchange.pathWithoutQuery) (allowed: \(list))",
            requestID: exchange.requestID)
        response.headers = [("allow:", list)]
        return response
    }

    /// `{"error_code","message","timestamp","request_id"}`, plus `"details"` when given.
    static func errorBody(
        _ code: ErrorCode, _ message: String, requestID: String, details: JSONObject? = nil
    ) -> JSONValue {
        var body: JSONObject = [
            "error_code": .string(code.rawValue), "message": .string(message),
            "timestamp": .string(Timestamp.now()), "request_id": .string(requestID),
        ]
        if let details { body["details"] = .object(details) }
        return .object(body)
    }
}
