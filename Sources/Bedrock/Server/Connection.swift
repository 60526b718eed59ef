import DequeModule
import GatewayCore
import Transport

/// One WebSocket connection on its service loop: its protocol machine, its send queue and a
/// partially received message. Owned by `ServiceLoop.connections`; late answers find it by `serial`.
final class Connection {
    let wsi: WSI
    /// Unique on its loop for the loop's lifetime: late answers (method results, replays) name
    /// the connection by it, never by an address that a later connection could reuse.
    let serial: UInt64
    let machine: SessionMachine
    /// Frames waiting for the socket and the slow-consumer policy.
    var outbound: OutboundQueue<SharedFrame>
    /// Fragments of a message not yet complete.
    var partial: [UInt8] = []
    /// The close frame the peer sent (code, reason), if it sent one.
    var peerClose: (code: Int, reason: String)?
    /// True once its `ws close` line is written: one line per connection.
    var closeLogged = false
    /// Counted in `active_connections` (authenticated).
    var counted = false
    /// The peer's address (normalised, `ConnectionBudget`): its share of the per-address limit.
    let address: String
    /// Requests of this connection a worker is still answering (`ServiceLoop.call`).
    var inFlight = 0
    /// The gateway is draining: no more events for it; it closes with 1001 once its in-flight
    /// answers are written (`ServiceLoop.closeIfDrained`).
    var draining = false

    init(wsi: WSI, serial: UInt64, machine: SessionMachine, policy: OutboundPolicy, address: String) {
        self.wsi = wsi
        self.serial = serial
        self.machine = machine
        self.address = address
        outbound = OutboundQueue(policy: policy)
    }
}

extension SharedFrame: OutboundFrame {}
