/// The roles of SPEC §6, ordered `VIEWER < TRADER < ADMIN`.
///
/// The raw value is the exact string carried in the JWT `role` claim (upper case; any other
/// spelling is an unknown role).
public enum Role: String, Sendable, CaseIterable, Hashable, Comparable {
    /// `VIEWER`, the lowest role (what each role may do is the gateway's ACLs).
    case viewer = "VIEWER"
    /// `TRADER`, above `VIEWER`.
    case trader = "TRADER"
    /// `ADMIN`, the highest role.
    case admin = "ADMIN"

    /// Rank used for ordering: higher may do everything a lower one may.
    public var rank: Int {
        switch self {
        case .viewer: return 0
        case .trader: return 1
        case .admin: return 2
        }
    }

    /// Orders by `rank`.
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// True when this role is at least `least` (e.g. `.admin.satisfies(.trader)`).
    public func satisfies(_ least: Role) -> Bool { self >= least }
}
