import Foundation
import JSONCodec

/// Parameter reading for the ledger methods. REST query arguments arrive as strings and socket
/// params as JSON values, so numbers are accepted in either form; every refusal is a
/// BAD_REQUEST that names the field.
///
/// Paging (SPEC §4): `limit` defaults to 20; a `limit` above 100 is clamped to 100 (the answer's
/// `page_size` says so); `limit` < 1, a non-integer `limit`, or a negative or non-integer
/// `offset` is BAD_REQUEST.
struct LedgerParams {
    let params: JSONObject

    /// Largest page.
    static let maxLimit = 100
    /// Page size when `limit` is absent.
    static let defaultLimit = 20

    private func present(_ name: String) -> JSONValue? {
        guard let v = params[name], !v.isNull else { return nil }
        if let s = v.stringValue, s.isEmpty { return nil }
        return v
    }

    /// An optional integer (JSON integer or decimal text).
    func int(_ name: String) throws(APIError) -> Int64? {
        guard let v = present(name) else { return nil }
        if let i = v.intValue { return i }
        if let s = v.stringValue, let i = Int64(LedgerParams.trimmed(s)) { return i }
        throw APIError(.badRequest, "\(name) must be an integer")
    }

    /// An optional finite number (JSON number or decimal text).
    func number(_ name: String) throws(APIError) -> Double? {
        guard let v = present(name) else { return nil }
        if let d = v.doubleValue, d.isFinite { return d }
        if let s = v.stringValue, let d = Double(LedgerParams.trimmed(s)), d.isFinite { return d }
        throw APIError(.badRequest, "\(name) must be a number")
    }

    /// `s` without surrounding whitespace. The common case (first and last byte plain ASCII, not
    /// blank) is answered without Foundation: estimates parse their numbers on the event loop.
    static func trimmed(_ s: String) -> String {
        let utf8 = s.utf8
        if let first = utf8.first, let last = utf8.last, first > 32, first < 128, last > 32, last < 128 { return s }
        return s.trimmingCharacters(in: .whitespaces)
    }

    /// A required number greater than zero.
    func positive(_ name: String) throws(APIError) -> Double {
        guard let d = try number(name) else { throw APIError(.badRequest, "\(name) is required") }
        guard d > 0 else { throw APIError(.badRequest, "\(name) must be greater than 0") }
        return d
    }

    /// An optional non-empty string.
    func string(_ name: String) throws(APIError) -> String? {
        guard let v = present(name) else { return nil }
        guard let s = v.stringValue else { throw APIError(.badRequest, "\(name) must be a string") }
        return s
    }

    /// A record id: NOT_FOUND (naming `what`) when it cannot name a record, BAD_REQUEST when absent.
    func id(_ name: String = "id", what: String) throws(APIError) -> Int64 {
        guard let v = present(name) else { throw APIError(.badRequest, "\(name) is required") }
        let raw = v.stringValue ?? v.intValue.map(String.init) ?? ""
        guard let id = Int64(raw), id > 0 else { throw APIError(.notFound, "no \(what) with id \(raw.isEmpty ? "\(v)" : raw)") }
        return id
    }

    /// `(offset, limit)` by the paging rules above.
    func paging() throws(APIError) -> (offset: Int, limit: Int) {
        let limit = try int("limit") ?? Int64(LedgerParams.defaultLimit)
        guard limit >= 1 else { throw APIError(.badRequest, "limit must be an integer from 1 to \(LedgerParams.maxLimit)") }
        let offset = try int("offset") ?? 0
        guard offset >= 0 else { throw APIError(.badRequest, "offset must be an integer >= 0") }
        guard offset <= 1_000_000_000 else { throw APIError(.badRequest, "offset is too large") }
        return (Int(offset), Int(min(limit, Int64(LedgerParams.maxLimit))))
    }
}

extension LedgerPage {
    /// `{"total","page","page_size","data"}` (SPEC §4); `page` is 1-based.
    func json(offset: Int, limit: Int) -> JSONValue {
        .object([
            "total": .int(Int64(total)), "page": .int(Int64(offset / limit + 1)),
            "page_size": .int(Int64(limit)), "data": .array(data.map(JSONValue.object)),
        ])
    }
}
