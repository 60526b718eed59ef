/// One tunable strategy parameter: its name, default and valid closed range.
public struct ParameterSpec: Sendable, Equatable, Codable {
    /// Parameter name as used on the command line and in the API (`fast`, `reward_risk`, ...).
    public var name: String
    /// Value used when the caller gives none.
    public var defaultValue: Double
    /// Smallest valid value (inclusive).
    public var min: Double
    /// Largest valid value (inclusive).
    public var max: Double
    /// True when only whole numbers are valid (periods, bar counts).
    public var isInteger: Bool
    /// One line on what it does.
    public var summary: String

    /// Creates a parameter spec.
    public init(
        name: String, defaultValue: Double, min: Double, max: Double, isInteger: Bool = false,
        summary: String = ""
    ) {
        self.name = name; self.defaultValue = defaultValue; self.min = min; self.max = max
        self.isInteger = isInteger; self.summary = summary
    }

    /// `name (default D, min..max, integer)` for error messages and help.
    public var displayText: String {
        func f(_ v: Double) -> String { isInteger || v == v.rounded() ? String(Int64(v)) : String(v) }
        return "\(name) (default \(f(defaultValue)), \(f(min))..\(f(max))\(isInteger ? ", integer" : ""))"
    }

    /// Validates raw parameters against `specs`: unknown names, non-finite, out-of-range or
    /// non-integer values are refused with an error listing the valid parameters; missing ones
    /// take their defaults.
    public static func resolve(
        _ raw: [String: Double], specs: [ParameterSpec],
        strategy: String
    ) throws -> StrategyParameters {
        var values: [String: Double] = [:]
        for spec in specs { values[spec.name] = spec.defaultValue }
        for name in raw.keys.sorted() {
            let value = raw[name]!
            guard let spec = specs.first(where: { $0.name == name }) else {
                throw StrategyError.unknownParameter(strategy: strategy, name: name, valid: specs)
            }
            guard value.isFinite, value >= spec.min, value <= spec.max else {
                throw StrategyError.parameterOutOfRange(strategy: strategy, name: name, value: value, spec: spec)
            }
            if spec.isInteger && value != value.rounded() {
                throw StrategyError.parameterNotInteger(strategy: strategy, name: name, value: value, spec: spec)
            }
            values[name] = value
        }
        return StrategyParameters(values: values)
    }
}

/// A validated, complete parameter set (every spec'd name present).
public struct StrategyParameters: Sendable, Equatable {
    /// Name → value, defaults filled in.
    public let values: [String: Double]

    /// Wraps an already validated dictionary.
    public init(values: [String: Double]) { self.values = values }

    /// The value of `name` (0 when absent; specs guarantee presence after `resolve`).
    public subscript(_ name: String) -> Double { values[name] ?? 0 }

    /// The value of `name` as an integer.
    public func int(_ name: String) -> Int { Int(self[name]) }
}

/// Why a strategy could not be created. `description` lists the valid choices.
public enum StrategyError: Error, Equatable, CustomStringConvertible {
    /// No strategy has this name; `known` lists the registered ones.
    case unknownStrategy(name: String, known: [String])
    /// The strategy has no parameter of this name; `valid` lists its parameters.
    case unknownParameter(strategy: String, name: String, valid: [ParameterSpec])
    /// The value lies outside the parameter's range (or is not finite).
    case parameterOutOfRange(strategy: String, name: String, value: Double, spec: ParameterSpec)
    /// The parameter takes whole numbers only.
    case parameterNotInteger(strategy: String, name: String, value: Double, spec: ParameterSpec)
    /// Each value is valid alone but not together (e.g. fast ≥ slow).
    case invalidCombination(strategy: String, message: String)

    /// One line naming the problem and the valid choices.
    public var description: String {
        switch self {
        case let .unknownStrategy(name, known):
            return "unknown strategy '\(name)'; valid: \(known.joined(separator: ", "))"
        case let .unknownParameter(strategy, name, valid):
            return "unknown parameter '\(name)' for \(strategy); valid: "
                + valid.map(\.displayText).joined(separator: "; ")
        case let .parameterOutOfRange(strategy, name, value, spec):
            return "parameter '\(name)' = \(value) is out of range for \(strategy); valid: \(spec.displayText)"
        case let .parameterNotInteger(strategy, name, value, spec):
            return "parameter '\(name)' = \(value) must be a whole number for \(strategy); valid: \(spec.displayText)"
        case let .invalidCombination(strategy, message):
            return "invalid parameters for \(strategy): \(message)"
        }
    }
}
