/// Why a context could not be created (e.g. the port is taken); `description` says what failed.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    /// What failed, for the operator.
    public let description: String
    init(_ description: String) { self.description = description }
}
