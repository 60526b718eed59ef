import JSONCodec
import TradingCore

/// `strategies.list` / `GET /v1/strategies` (VIEWER): the strategies a backtest or an optimisation
/// may name, each with its parameters' defaults and valid ranges, straight from TradingCore's
/// `StrategyRegistry` (the same specs that refuse a bad value with `StrategyError`).
///
/// Answer: `{"total":N,"data":[{"name","description","params":[{"name","default","min","max",
/// "integer","description"}]}]}` — strategies in registry (name) order, parameters in spec order.
/// Whole-number values are JSON integers, others JSON numbers.
public enum StrategyCatalog {
    /// One line per registered strategy, for the dashboard's strategy select.
    static let descriptions: [String: String] = [
        "oops":
            "Opening gap past the previous bar's extreme that closes still beyond it: stop entry back at that level (long and short)",
        "pullback": "In an uptrend, a bar that dips into the EMA zone and closes back above it: market entry (long)",
        "sma_cross": "Fast SMA crosses above the slow SMA: enter; the opposite cross: exit (reference, long only)",
    ]

    /// The catalogue as the method answers it.
    public static func list() -> JSONValue {
        let data = StrategyRegistry.all.map { descriptor -> JSONValue in
            var entry: JSONObject = ["name": .string(descriptor.name)]
            if let text = descriptions[descriptor.name] { entry["description"] = .string(text) }
            entry["params"] = .array(descriptor.parameterSpecs.map(param))
            return .object(entry)
        }
        return .object(["total": .int(Int64(data.count)), "data": .array(data)])
    }

    /// One parameter spec as JSON.
    static func param(_ spec: ParameterSpec) -> JSONValue {
        var out: JSONObject = [
            "name": .string(spec.name),
            "default": number(spec.defaultValue),
            "min": number(spec.min),
            "max": number(spec.max),
            "integer": .bool(spec.isInteger),
        ]
        if !spec.summary.isEmpty { out["description"] = .string(spec.summary) }
        return .object(out)
    }

    private static func number(_ value: Double) -> JSONValue {
        value == value.rounded() && abs(value) < 9.0e15 ? .int(Int64(value)) : .double(value)
    }
}
