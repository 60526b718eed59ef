import Synchronization

/// One reading of the two clocks a service loop needs: `monotonic` seconds for every deadline
/// (heartbeats, authentication, lag, linger, rate windows) — a clock that never steps, so a
/// change of the system time cannot close every session — and `wall` seconds since the epoch,
/// only for token expiry (`exp`) and timestamps.
public struct ClockReading: Sendable, Equatable {
    /// Seconds on a clock that only moves forward, from an arbitrary origin.
    public var monotonic: Double
    /// Seconds since 1970-01-01 UTC.
    public var wall: Double

    /// A reading of both clocks.
    public init(monotonic: Double, wall: Double) {
        self.monotonic = monotonic
        self.wall = wall
    }
}

/// Where a service loop reads the time. Injected: the server reads the system's clocks, tests a
/// `ManualClock` they move.
public protocol GatewayClock: Sendable {
    /// Both clocks, now.
    func read() -> ClockReading
}

/// A clock that moves only when told to (tests).
public final class ManualClock: GatewayClock {
    private let reading: Mutex<ClockReading>

    /// A clock showing `monotonic` and `wall` (same number by default).
    public init(monotonic: Double = 0, wall: Double? = nil) {
        reading = Mutex(ClockReading(monotonic: monotonic, wall: wall ?? monotonic))
    }

    /// The current reading.
    public func read() -> ClockReading { reading.withLock { $0 } }

    /// Move both clocks forward by `seconds`.
    public func advance(_ seconds: Double) {
        reading.withLock {
            $0.monotonic += seconds
            $0.wall += seconds
        }
    }

    /// Step the wall clock alone (as an operator or NTP might), leaving the monotonic one.
    public func stepWall(by seconds: Double) { reading.withLock { $0.wall += seconds } }
}
