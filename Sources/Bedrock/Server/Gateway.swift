import Foundation
import Transport

/// The gateway as `bedrock serve` runs it: `server.service_threads` service loops behind one
/// port. Loop 0 listens and hands each accepted connection to the loop holding the fewest (itself
/// included); a connection then lives on that loop. Every loop gets every bridged event, so a
/// subscriber sees the same stream whichever loop serves it; replay, ordering and the slow-consumer
/// policy are per connection, as with one loop.
final class Gateway: @unchecked Sendable {
    // Sound: `loops` is set in `init` and never changed; each loop guards its own state.
    let loops: [ServiceLoop]
    /// Who is connected, over every loop (`PresenceBook`).
    let presence: PresenceBook

    init(
        loops count: Int, options: GatewayOptions, source: EventSource, methods: MethodTable, registry: MetricsRegistry,
        authenticate: @escaping @Sendable (String) -> Result<Identity, AuthRefusal>
    ) {
        let census = LoopCensus(loops: count)
        let presence = PresenceBook(maxPerUser: options.server.maxConnectionsPerUser)
        self.presence = presence
        loops = (0..<max(1, count)).map { index in
            ServiceLoop(
                options: options, source: source, methods: methods, index: index, census: census, presence: presence,
                registry: registry, authenticate: authenticate)
        }
        for loop in loops { loop.siblings = loops }
    }

    /// Set what every loop shares before serving.
    func configure(_ body: (ServiceLoop) -> Void) { loops.forEach(body) }

    /// Create every loop's context; loop 0 binds the port (throws `GatewayStartError` naming
    /// `server.host` or `server.port` when that is what it cannot have).
    func bind() throws {
        do {
            for loop in loops { try loop.bind() }
        } catch let error as TransportError {
            switch error.kind {
            case .address: throw GatewayStartError("server.host: \(error.description)")
            case .port: throw GatewayStartError("server.port: \(error.description)")
            case .other: throw GatewayStartError(error.description)
            }
        }
    }

    /// Serve until `shutdown()` completes on every loop: loop 0 on the calling thread, the others
    /// on threads of their own.
    func serve() {
        let finished = DispatchGroup()
        for loop in loops.dropFirst() {
            finished.enter()
            let thread = Thread {
                loop.serve(); finished.leave()
            }
            thread.name = "bedrock-loop-\(loop.index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
        loops[0].serve()
        finished.wait()
    }

    /// Graceful drain of every loop (any thread): see `ServiceLoop.shutdown(within:)`.
    func shutdown(within seconds: Double) { loops.forEach { $0.shutdown(within: seconds) } }

    /// Close the sockets of `sub` on every loop (any thread): all of them with 4403 (an admin
    /// disconnect), or with `issuedBeforeMillis` those whose token was issued before then, with
    /// 4401 (a revocation).
    func closeSessions(of sub: String, issuedBeforeMillis: Int64?) {
        for loop in loops { loop.post { [loop] in loop.closeSessions(of: sub, issuedBeforeMillis: issuedBeforeMillis) } }
    }

    /// Events from the Redis bridge (reader thread), to every loop in the same order. Each loop
    /// makes frames of its own: lws writes each frame's header into the frame's headroom, so one
    /// buffer must not be written from two loop threads at once.
    func deliver(_ batch: [BridgedEvent]) {
        for loop in loops { loop.deliver(batch) }
    }
}
