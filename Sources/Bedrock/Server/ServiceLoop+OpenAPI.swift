/// `GET /v1/openapi.json`: no auth, GET and HEAD only, the bytes built at start.
extension ServiceLoop {
    func serveOpenAPI(_ exchange: HTTPExchange) -> Int32 {
        guard exchange.method == "GET" || exchange.method == "HEAD" else {
            return respond(exchange, route: OpenAPIDocument.path, .methodNotAllowed(exchange, allow: ["GET", "HEAD"]))
        }
        var response = HTTPResponse(status: 200, body: openAPI)
        response.contentType = "application/json; charset=utf-8"
        return respond(exchange, route: OpenAPIDocument.path, response)
    }
}
