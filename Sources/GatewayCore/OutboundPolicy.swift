/// The thresholds of the slow-consumer policy (SPEC §5), from configuration. Injected into every
/// `OutboundQueue`, so tests can use small numbers and a clock of their own.
public struct OutboundPolicy: Sendable, Equatable {
    /// `send_queue_max`: frames a connection may hold before it counts as lagging.
    public var softLimit: Int
    /// Frames a connection may hold before it is cut off at once (plus any replay allowance).
    public var hardLimit: Int
    /// Seconds over `softLimit` before the client is told it lags.
    public var warnAfter: Double
    /// Seconds over `softLimit` before the client is cut off.
    public var closeAfter: Double
    /// Largest payload of one batched write, in bytes (frames joined by `\n`).
    public var batchBytes: Int

    /// A policy with these thresholds.
    public init(softLimit: Int, hardLimit: Int, warnAfter: Double, closeAfter: Double, batchBytes: Int) {
        self.softLimit = softLimit
        self.hardLimit = hardLimit
        self.warnAfter = warnAfter
        self.closeAfter = closeAfter
        self.batchBytes = batchBytes
    }

    /// The gateway's policy for `send_queue_max`: cut off past 4 × that and never below two reads
    /// of the bridge (one burst alone cannot cut off a healthy client); warn after 1 s over it,
    /// close after 5 s; batches up to 64 KiB. Frames are shared between subscribers, so the
    /// limits bound references, not copies.
    public static func gateway(sendQueueMax: Int) -> OutboundPolicy {
        OutboundPolicy(
            softLimit: sendQueueMax, hardLimit: max(sendQueueMax * 4, 4096),
            warnAfter: 1, closeAfter: 5, batchBytes: 64 * 1024)
    }
}
