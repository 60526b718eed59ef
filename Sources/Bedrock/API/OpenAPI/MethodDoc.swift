import JSONCodec

/// The documentation of one API method for the OpenAPI document (`OpenAPIDocument`): what the
/// route table cannot say. Path parameters come from the route; `fields` are the query
/// arguments of a GET route, the JSON body members of a POST route (path parameters excluded).
struct MethodDoc: Sendable {
    /// The group the operation is listed under (OpenAPI tag).
    var tag: String
    var summary: String
    /// More words, when the summary is not enough (Markdown).
    var details: String? = nil
    var fields: [FieldDoc] = []
    /// An example answer: shown as the response example, and its shape as the response schema.
    var response: JSONValue
}

/// One parameter of a method: a query argument, a path parameter or a body member.
struct FieldDoc: Sendable {
    /// The JSON Schema types a field may have.
    enum Kind: String, Sendable {
        case string, integer, number, boolean, object, array
    }

    var name: String
    var kind: Kind
    var summary: String
    var required = false
    /// The allowed values, when they are a short list.
    var choices: [String] = []
    /// An example value (for a body's example; query examples are the schema's).
    var example: JSONValue? = nil

    /// A field that may be left out.
    static func optional(
        _ name: String, _ kind: Kind, _ summary: String, choices: [String] = [], example: JSONValue? = nil
    ) -> FieldDoc {
        FieldDoc(name: name, kind: kind, summary: summary, choices: choices, example: example)
    }

    /// A field every call must carry.
    static func required(
        _ name: String, _ kind: Kind, _ summary: String, choices: [String] = [], example: JSONValue? = nil
    ) -> FieldDoc {
        FieldDoc(name: name, kind: kind, summary: summary, required: true, choices: choices, example: example)
    }

    /// The field's JSON Schema.
    var schema: JSONValue {
        var schema: JSONObject = ["type": .string(kind.rawValue), "description": .string(summary)]
        if !choices.isEmpty { schema["enum"] = .array(choices.map { .string($0) }) }
        if let example { schema["examples"] = [example] }
        return .object(schema)
    }
}

/// The filters the ledger's lists share (`signals.list`, `positions.list`, `trades.list`).
extension FieldDoc {
    static let limit = FieldDoc.optional("limit", .integer, "page size, 1-100 (default 20)")
    static let offset = FieldDoc.optional("offset", .integer, "rows to skip (default 0)")
    static let market = FieldDoc.optional(
        "market", .string, "a market in any spelling (BTCUSDT, BTC/USDT, btc-usdt)", example: "BTCUSDT")
    static let from = FieldDoc.optional("from", .string, "from this time (RFC 3339 or epoch ms)")
    static let to = FieldDoc.optional("to", .string, "up to this time (RFC 3339 or epoch ms)")
    static let taskID = FieldDoc.required("task_id", .string, "the job's id")
}

extension JSONValue {
    /// A JSON Schema describing this example's shape: objects by their members, arrays by their
    /// first item, `null` as any value.
    var exampleSchema: JSONValue {
        switch self {
        case .null: return [:]
        case .bool: return ["type": "boolean"]
        case .int: return ["type": "integer"]
        case .double: return ["type": "number"]
        case .string: return ["type": "string"]
        case .array(let items): return ["type": "array", "items": items.first?.exampleSchema ?? [:]]
        case .object(let object):
            let properties = JSONObject(object.members.map { ($0.key, $0.value.exampleSchema) })
            return ["type": "object", "properties": .object(properties)]
        }
    }
}
