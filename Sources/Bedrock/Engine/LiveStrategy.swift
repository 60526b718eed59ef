import Foundation
import JSONCodec
import TradingCore

/// One live strategy of `engine.strategies`: a registry name, its parameters and the markets it
/// trades (SPEC §11). A plain name in the config means the defaults on every market.
public struct LiveStrategy: Sendable, Equatable {
    /// Strategy registry name (`pullback`, `oops`, `sma_cross`).
    public var name: String
    /// Raw parameters (validated against the strategy's specs; defaults fill the rest).
    public var parameters: [String: Double]
    /// Canonical market ids (`BTCUSDT`) it runs on; nil: every market (`"*"`).
    public var markets: Set<String>?

    /// A live strategy; `markets` nil runs it on every market.
    public init(name: String, parameters: [String: Double] = [:], markets: Set<String>? = nil) {
        self.name = name; self.parameters = parameters; self.markets = markets
    }

    /// True when it runs on `market` (any spelling; compared by canonical id).
    public func runs(on market: String) -> Bool {
        guard let markets else { return true }
        return markets.contains(MarketName.canonical(market) ?? market)
    }

    /// The config form: `{"name","params":{},"markets":["*"]}`.
    public var jsonValue: JSONValue {
        .object([
            ("name", .string(name)),
            ("params", .object(parameters.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.number($0.value)) })),
            ("markets", .array((markets.map { $0.sorted() } ?? ["*"]).map(JSONValue.string))),
        ])
    }

    /// Parses `engine.strategies`: a JSON array of names and/or `{"name","params","markets"}`
    /// objects, or (environment) comma-separated names or the same JSON array as text. Every
    /// problem is thrown as a message (the caller names the key): unknown strategy, unknown
    /// or out-of-range parameter, bad market, the same strategy twice on one market.
    static func parseList(_ value: JSONValue, fromText: Bool) throws(LiveStrategyError) -> [LiveStrategy] {
        var items: [JSONValue]
        if let text = value.stringValue, fromText {
            let t = text.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("[") {
                guard let parsed = try? JSONCodec.parse(t), let array = parsed.arrayValue else {
                    throw LiveStrategyError("is not a JSON array: \(t)")
                }
                items = array
            } else {
                items = t.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }
                items.removeAll { $0.stringValue?.isEmpty == true }
            }
        } else if value.isNull {
            items = []
        } else if let array = value.arrayValue {
            items = array
        } else {
            throw LiveStrategyError("must be an array of strategy names or {\"name\",\"params\",\"markets\"} objects")
        }
        var out: [LiveStrategy] = []
        for item in items {
            let strategy = try parse(item)
            if let clash = out.first(where: { $0.name == strategy.name && $0.overlaps(strategy) }) {
                throw LiveStrategyError("\(clash.name) is listed twice for the same market")
            }
            out.append(strategy)
        }
        return out
    }

    private static func parse(_ item: JSONValue) throws(LiveStrategyError) -> LiveStrategy {
        if let name = item.stringValue { return try checked(LiveStrategy(name: name)) }
        guard let o = item.objectValue else {
            throw LiveStrategyError("each entry must be a strategy name or an object, got \(JSONCodec.encodeString(item))")
        }
        for key in o.keys where !["name", "params", "markets"].contains(key) {
            throw LiveStrategyError("unknown key \(key) in a strategy (known: name, params, markets)")
        }
        guard let name = o["name"]?.stringValue else { throw LiveStrategyError("a strategy object needs \"name\" (a string)") }
        var parameters: [String: Double] = [:]
        if let p = o["params"], !p.isNull {
            guard let members = p.objectValue?.members else { throw LiveStrategyError("\(name): params must be an object") }
            for (k, v) in members {
                guard let d = RawConfig.number(v), d.isFinite else {
                    throw LiveStrategyError("\(name): param \(k) must be a number")
                }
                parameters[k] = d
            }
        }
        var markets: Set<String>?
        if let m = o["markets"], !m.isNull {
            guard let array = m.arrayValue, !array.isEmpty else {
                throw LiveStrategyError("\(name): markets must be a non-empty array of market names or \"*\"")
            }
            var set: Set<String> = []
            var all = false
            for entry in array {
                guard let s = entry.stringValue else { throw LiveStrategyError("\(name): markets must hold strings") }
                if s == "*" {
                    all = true
                } else if let id = MarketName.canonical(s) {
                    set.insert(id)
                } else {
                    throw LiveStrategyError("\(name): bad market \"\(s)\": \(MarketName.rule)")
                }
            }
            markets = all ? nil : set
        }
        return try checked(LiveStrategy(name: name, parameters: parameters, markets: markets))
    }

    /// `strategy` when its name is registered and a strategy can be made with its parameters
    /// (each in range, and together consistent: e.g. sma_cross's fast below slow).
    private static func checked(_ strategy: LiveStrategy) throws(LiveStrategyError) -> LiveStrategy {
        guard StrategyRegistry.names.contains(strategy.name) else {
            throw LiveStrategyError(
                "unknown strategy \(strategy.name) (known: \(StrategyRegistry.names.joined(separator: ", ")))")
        }
        do {
            _ = try StrategyRegistry.make(name: strategy.name, parameters: strategy.parameters)
        } catch {
            throw LiveStrategyError("\(strategy.name): \(error)")
        }
        return strategy
    }

    /// True when both may run on one market.
    private func overlaps(_ other: LiveStrategy) -> Bool {
        guard let a = markets, let b = other.markets else { return true }
        return !a.isDisjoint(with: b)
    }
}

/// Why `engine.strategies` was refused (the config loader names the key).
struct LiveStrategyError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
