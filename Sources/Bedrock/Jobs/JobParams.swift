import Foundation
import JSONCodec
import TradingCore

/// Typed reads of job parameters. Socket params are typed JSON; REST query arguments arrive as
/// strings, so numbers and booleans are also accepted as strings. Every failure is a
/// `BAD_REQUEST` naming the field and what it accepts.
struct JobParams {
    let params: JSONObject

    /// The member, nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let v = params[key], !v.isNull else { return nil }
        return v
    }

    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw APIError(.badRequest, "\(key) must be a string") }
        let trimmed = s.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    func number(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        if let d = v.doubleValue, d.isFinite { return d }
        if let s = v.stringValue, let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite { return d }
        throw APIError(.badRequest, "\(key) must be a number")
    }

    /// A number in `range` (default when absent); `what` describes the valid values.
    func number(_ key: String, default d: Double, _ valid: (Double) -> Bool, _ what: String) throws -> Double {
        guard let v = try number(key) else { return d }
        guard valid(v) else { throw APIError(.badRequest, "\(key) must be \(what), got \(TextFormat.plain(v))") }
        return v
    }

    func int(_ key: String, default d: Int?, _ range: ClosedRange<Int>) throws -> Int? {
        guard let v = try number(key) else { return d }
        guard v == v.rounded(), v >= Double(range.lowerBound), v <= Double(range.upperBound) else {
            throw APIError(
                .badRequest,
                "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(TextFormat.plain(v))")
        }
        return Int(v)
    }

    func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = value(key) else { return d }
        if let b = v.boolValue { return b }
        switch v.stringValue?.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError(.badRequest, "\(key) must be true or false")
        }
    }

    /// A date bound: `YYYY-MM-DD` (UTC; as an end, the whole day counts) or an RFC 3339 time, or
    /// epoch milliseconds. Nil when absent.
    func date(_ key: String, endOfDay: Bool) throws -> Int64? {
        guard let v = value(key) else { return nil }
        if let ms = v.intValue { return ms }
        guard let text = v.stringValue?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            throw APIError(.badRequest, "\(key) must be a date (YYYY-MM-DD) or an RFC 3339 time")
        }
        if let ms = JobParams.day(text) { return endOfDay ? ms + 86_400_000 - 1 : ms }
        if text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let ms = Int64(text) { return ms }
        if let ms = KlineEvent.parseRFC3339(text) { return ms }
        throw APIError(.badRequest, "\(key) must be a date (YYYY-MM-DD) or an RFC 3339 time, got \"\(text)\"")
    }

    /// Midnight UTC of a `YYYY-MM-DD` date, in ms.
    static func day(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        return CivilDate.days(year: y, month: m, day: d) * 86_400_000
    }

    /// Strategy parameters from the object at `key`: name → number (or numeric string).
    func parameterObject(_ key: String) throws -> [String: Double] {
        guard let v = value(key) else { return [:] }
        guard let object = v.objectValue else {
            throw APIError(.badRequest, "\(key) must be an object of parameter name → number")
        }
        var out: [String: Double] = [:]
        for (name, raw) in object.members {
            if let d = raw.doubleValue, d.isFinite {
                out[name] = d
            } else if let s = raw.stringValue, let d = Double(s), d.isFinite {
                out[name] = d
            } else {
                throw APIError(.badRequest, "\(key).\(name) must be a number")
            }
        }
        return out
    }
}
