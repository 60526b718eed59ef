/// One named parameter to search over: an explicit list of values (grid search) that also
/// bounds random search (`lowerBound ... upperBound`).
public struct ParameterRange: Sendable, Equatable {
    /// The strategy parameter name, e.g. `fast`.
    public var name: String
    /// Values tried by grid search, in the order given (duplicates removed).
    public var values: [Double]
    /// Whether random search draws whole numbers (true when every value is a whole number).
    public var isInteger: Bool

    /// Smallest value; random search draws from `lowerBound ... upperBound`.
    public var lowerBound: Double { values.min() ?? 0 }
    /// Largest value.
    public var upperBound: Double { values.max() ?? 0 }

    /// A range over explicit values. `isInteger` defaults to "every value is whole".
    public init(name: String, values: [Double], isInteger: Bool? = nil) {
        self.name = name
        var seen = Set<Double>()
        self.values = values.filter { seen.insert($0).inserted }
        self.isInteger = isInteger ?? values.allSatisfy { $0 == $0.rounded() }
    }

    /// Why a `--grid` argument could not be read.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        /// One line for the user.
        public var description: String
    }

    /// Parses a command-line range: `name=a,b,c` (a list), `name=lo:hi` (whole steps of 1) or
    /// `name=lo:hi:step`. Values are numbers; a step must be positive and yield ≤ 10 000 values.
    public static func parse(_ text: String) throws -> ParameterRange {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ParseError(description: "bad range '\(text)': expected name=a,b,c or name=lo:hi[:step]")
        }
        let name = String(text[..<eq])
        let spec = text[text.index(after: eq)...]
        func number(_ s: Substring) throws -> Double {
            guard let v = Double(s.trimmingSpaces), v.isFinite else {
                throw ParseError(description: "bad value '\(s)' in range '\(text)': not a number")
            }
            return v
        }
        if spec.contains(":") {
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3 else {
                throw ParseError(description: "bad range '\(text)': expected name=lo:hi or name=lo:hi:step")
            }
            let lo = try number(parts[0]), hi = try number(parts[1])
            let step = parts.count == 3 ? try number(parts[2]) : 1
            guard step > 0, lo <= hi else {
                throw ParseError(description: "bad range '\(text)': need lo <= hi and a positive step")
            }
            let n = Int(((hi - lo) / step + 1e-9).rounded(.down)) + 1
            guard n <= 10_000 else {
                throw ParseError(description: "bad range '\(text)': more than 10000 values")
            }
            return ParameterRange(name: name, values: (0..<n).map { lo + Double($0) * step })
        }
        let values = try spec.split(separator: ",", omittingEmptySubsequences: false).map(number)
        return ParameterRange(name: name, values: values)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
