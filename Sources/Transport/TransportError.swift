/// Why a context could not be created (e.g. the port is taken); `description` says what failed
/// and `kind` which setting is at fault.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    /// Which part of the listening setup failed.
    public enum Kind: Sendable, Equatable {
        /// The address cannot be listened on (not an IP address or interface of this machine).
        case address
        /// The port cannot be bound (in use, or privileged).
        case port
        /// Anything else (TLS files, lws itself).
        case other
    }

    /// What failed, for the operator.
    public let description: String
    /// Which setting is at fault.
    public let kind: Kind

    init(_ description: String, kind: Kind = .other) {
        self.description = description
        self.kind = kind
    }
}
