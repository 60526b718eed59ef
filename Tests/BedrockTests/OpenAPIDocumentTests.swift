import JSONCodec
import XCTest

@testable import Bedrock

/// `GET /v1/openapi.json` is generated from the route table: every method is documented, every
/// route, download and open route is in the document with its least role.
final class OpenAPIDocumentTests: XCTestCase {
    private let downloads = [
        DownloadRoute("/v1/trades/export", leastRole: .viewer) { _ in .failure(APIError(.notFound, "test")) },
        DownloadRoute("/v1/backtest/report/{task_id}/export", leastRole: .viewer) { _ in .failure(APIError(.notFound, "test")) },
    ]

    private func operation(_ document: JSONValue, _ path: String, _ verb: String) -> JSONObject? {
        document["paths"]?[path]?[verb.lowercased()]?.objectValue
    }

    func testEveryMethodHasDocumentation() {
        for method in Method.allCases {
            XCTAssertNotNil(MethodDocs.table[method], "\(method.rawValue) has no entry in MethodDocs")
        }
    }

    func testEveryRouteIsInTheDocumentWithItsRole() {
        let document = OpenAPIDocument.build(downloads: downloads)
        XCTAssertEqual(document["openapi"], "3.1.0")
        for route in RESTRoutes.table {
            let path = "/" + route.segments.joined(separator: "/")
            guard let op = operation(document, path, route.verb) else {
                XCTFail("\(route.verb) \(path) is missing from the document")
                continue
            }
            XCTAssertEqual(op["x-bedrock-role"]?.stringValue, route.method.leastRole.rawValue, path)
            XCTAssertEqual(op["operationId"]?.stringValue, route.method.rawValue, path)
            XCTAssertNotNil(op["responses"]?["200"]?["content"]?["application/json"]?["example"], path)
            for name in route.segments where name.hasPrefix("{") {
                let declared = op["parameters"]?.arrayValue?.contains {
                    $0["in"] == "path" && "{\($0["name"]?.stringValue ?? "")}" == name
                }
                XCTAssertEqual(declared, true, "\(path) does not declare \(name)")
            }
        }
        for route in downloads {
            let path = "/" + route.segments.joined(separator: "/")
            XCTAssertEqual(operation(document, path, "GET")?["x-bedrock-role"], "VIEWER", path)
        }
        for path in ["/health", "/ready", "/metrics", "/v1/openapi.json"] {
            XCTAssertEqual(operation(document, path, "GET")?["security"], [], path)
        }
    }

    func testBodiesOfPostRoutesAndQueryArgumentsOfGetRoutes() {
        let document = OpenAPIDocument.build(downloads: [])
        let publish = operation(document, "/v1/publish", "POST")
        let schema = publish?["requestBody"]?["content"]?["application/json"]?["schema"]
        XCTAssertEqual(schema?["required"], ["topic", "data"])
        XCTAssertEqual(schema?["properties"]?["idempotency_key"]?["type"], "string")
        XCTAssertEqual(publish?["x-bedrock-role"], "ADMIN")
        let history = operation(document, "/v1/history", "GET")
        let names = history?["parameters"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(names, ["topic", "since", "limit", "reverse"])
        XCTAssertNil(history?["requestBody"])
        let schemes = document["components"]?["securitySchemes"]
        XCTAssertEqual(schemes?["apiKeyAuth"]?["in"], "header")
        XCTAssertEqual(schemes?["bearerAuth"]?["bearerFormat"], "JWT")
    }

    func testProbesDocumentTheir503AndOperationsTheSharedErrors() {
        let document = OpenAPIDocument.build(downloads: downloads)
        for path in ["/ready", "/health/ready", "/health/startup"] {
            let unavailable = operation(document, path, "GET")?["responses"]?["503"]?["content"]?["application/json"]
            XCTAssertNotNil(unavailable?["example"]?["checks"], path)
        }
        XCTAssertEqual(
            operation(document, "/v1/presence", "GET")?["responses"]?["503"]?["$ref"], "#/components/responses/Unavailable")
        let publish = operation(document, "/v1/publish", "POST")?["responses"]
        for status in ["400", "401", "403", "404", "413", "429", "500", "503"] {
            XCTAssertNotNil(publish?[status]?["$ref"], "publish documents \(status)")
        }
        XCTAssertNil(operation(document, "/v1/presence", "GET")?["responses"]?["413"], "no body, no 413")
        let error = document["components"]?["responses"]?["PayloadTooLarge"]?["content"]?["application/json"]
        XCTAssertEqual(error?["schema"]?["$ref"], "#/components/schemas/Error")
        XCTAssertEqual(error?["example"]?["error_code"], "PAYLOAD_TOO_LARGE")
        XCTAssertEqual(
            operation(document, "/metrics", "GET")?["responses"]?["401"]?["$ref"], "#/components/responses/Unauthenticated")
    }

    func testTheBytesAreTheDocument() throws {
        let bytes = OpenAPIDocument.bytes(downloads: downloads)
        XCTAssertEqual(
            JSONCodec.encode(try JSONCodec.parse(bytes)), JSONCodec.encode(OpenAPIDocument.build(downloads: downloads)))
    }
}
