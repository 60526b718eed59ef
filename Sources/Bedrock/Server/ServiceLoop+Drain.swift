import GatewayCore
import Transport

/// Graceful drain on SIGTERM, so a rolling update loses nothing (docs/ops/DRAIN.md):
///
/// 1. At once (`shuttingDown`): `/ready` answers 503 so the load balancer stops routing here; a
///    WebSocket upgrade gets 503, and every HTTP request but a probe gets 503 `UNAVAILABLE` with
///    `connection: close` (nginx tries the next gateway).
/// 2. Each socket gets no more events — its client resumes on another gateway with `since`, so
///    an event it did not get here is not lost — and closes with 1001 as soon as the answers to
///    its requests still on a worker are written (`closeIfDrained`).
/// 3. HTTP exchanges already routed are answered (with `connection: close`).
/// 4. At `shutdownDeadline` (`server.drain_timeout_s`) whatever is still open gets 1001 anyway.
///    The loop ends once no socket and no exchange is left, or `closeGrace` after the deadline.
extension ServiceLoop {
    /// Seconds after the deadline's 1001 before the loop ends regardless: a client that never
    /// answers the close has been cut by its kill timer by then (`requestClose`).
    static let closeGrace = 4.0

    /// Start draining (service thread; once).
    func beginDrain(within seconds: Double) {
        affinity.assertOnLoop("the drain")
        guard !shuttingDown else { return }
        shuttingDown = true
        shutdownDeadline = now() + seconds
        for connection in connections.values { startDraining(connection) }
    }

    /// No more events for `connection` (fan-out skips it; its topics stay until it closes, so
    /// the drain costs no router work); it closes once its answers are out.
    func startDraining(_ connection: Connection) {
        connection.draining = true
        closeIfDrained(connection)
        if connection.outbound.closing == nil { connection.wsi.requestWritable() }  // checks again once written
    }

    /// Close a draining connection with 1001 once nothing it asked for is still on a worker and
    /// its queue is written (what is queued then is the answers; events stopped at the drain).
    func closeIfDrained(_ connection: Connection) {
        guard connection.draining, connection.inFlight == 0, connection.outbound.isEmpty else { return }
        requestClose(connection, .goingAway, "server shutting down")
    }

    /// End the loop when nothing is left to answer or close.
    func stopIfDrained() {
        guard shuttingDown, connections.isEmpty, pendingExchanges.isEmpty else { return }
        server.stop()
    }

    /// The clock tick while draining: 1001 to each socket whose queue a direct write emptied
    /// (`flushStaged` arms no writable callback), at the deadline to whatever is still open; then
    /// the end.
    func drainTick(now t: Double) {
        if t >= shutdownDeadline && !drainForced {
            drainForced = true
            for connection in connections.values { requestClose(connection, .goingAway, "server shutting down") }
        } else if !drainForced {
            for connection in connections.values where connection.outbound.closing == nil { closeIfDrained(connection) }
        }
        if t >= shutdownDeadline + ServiceLoop.closeGrace {
            server.stop()
        } else {
            stopIfDrained()
        }
    }

    /// Requests answered while draining: only the probes (`/ready` says 503); everything else
    /// goes to another gateway.
    static func answersWhileDraining(_ path: String) -> Bool {
        probeRoutes.contains(path) || path.hasPrefix("/health/")
    }
}
