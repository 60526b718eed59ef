import Foundation
import JSONCodec

/// The results of one scenario: ordered rows for the table, the same values in the JSON file.
struct Report {
    /// One measured or configured value.
    enum Value {
        case int(Int)
        case double(Double, digits: Int)
        case text(String)

        var display: String {
            switch self {
            case .int(let v): return String(v)
            case .double(let v, let d): return String(format: "%.\(d)f", v)
            case .text(let s): return s
            }
        }

        var json: JSONValue {
            switch self {
            case .int(let v): return .int(Int64(v))
            case .double(let v, let d): return .plain((v * pow(10, Double(d))).rounded() / pow(10, Double(d)))
            case .text(let s): return .string(s)
            }
        }
    }

    let scenario: String
    private(set) var parameters: [(String, Value)] = []
    private(set) var rows: [(String, Value, String)] = []
    /// Problems that make the run a failure (smoke exits non-zero on any).
    private(set) var failures: [String] = []
    /// Table headings: before row `index`, print `title` (`mixed` shows fan-out and requests).
    private var sections: [(index: Int, title: String)] = []
    /// Time series for the JSON file only (e.g. the soak's RSS samples), by name.
    private(set) var series: [String: [[Double]]] = [:]

    init(scenario: String) { self.scenario = scenario }

    mutating func parameter(_ name: String, _ value: Value) { parameters.append((name, value)) }
    mutating func add(_ name: String, _ value: Value, _ unit: String = "") { rows.append((name, value, unit)) }
    mutating func add(_ name: String, _ value: Double?, digits: Int = 1, _ unit: String = "") {
        if let value { rows.append((name, .double(value, digits: digits), unit)) }
    }
    mutating func fail(_ why: String) { failures.append(why) }
    /// Start a titled group of rows in the table.
    mutating func section(_ title: String) { sections.append((rows.count, title)) }
    /// Attach a series of numeric rows to the JSON file under `name`.
    mutating func attach(_ name: String, _ rows: [[Double]]) { series[name] = rows }

    /// The table printed on stdout.
    func table() -> String {
        var lines = ["== loadtest \(scenario) =="]
        let params = parameters.map { "\($0.0)=\($0.1.display)" }.joined(separator: " ")
        lines.append("   \(params)")
        let width = max(24, rows.map { $0.0.count }.max() ?? 0)
        for (i, (name, value, unit)) in rows.enumerated() {
            for section in sections where section.index == i { lines.append("   -- \(section.title) --") }
            let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
            let shown = value.display
            lines.append("   \(padded) \(String(repeating: " ", count: max(0, 14 - shown.count)))\(shown) \(unit)")
        }
        lines.append(failures.isEmpty ? "   result: OK" : "   result: FAILED")
        for failure in failures { lines.append("   - \(failure)") }
        return lines.joined(separator: "\n")
    }

    /// Write `{"scenario","parameters","results","units","failures","passed"}` to `path`.
    func writeJSON(_ path: String) throws {
        func sorted(_ members: [String: JSONValue]) -> JSONValue {
            .object(members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        var params: [String: JSONValue] = [:]
        for (k, v) in parameters { params[k] = v.json }
        var results: [String: JSONValue] = [:]
        var units: [String: JSONValue] = [:]
        for (k, v, u) in rows { results[k] = v.json; if !u.isEmpty { units[k] = .string(u) } }
        var object: [String: JSONValue] = [
            "scenario": .string(scenario), "parameters": sorted(params),
            "results": sorted(results), "units": sorted(units),
            "failures": .array(failures.map(JSONValue.string)), "passed": .bool(failures.isEmpty),
        ]
        for (name, rows) in series { object[name] = .array(rows.map { .array($0.map(JSONValue.plain)) }) }
        let data = Data(JSONCodec.encodePretty(sorted(object), doubles: .shortest))
        try data.write(to: URL(fileURLWithPath: path))
    }
}
