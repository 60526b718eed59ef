import GatewayCore
import JSONCodec
import Transport

/// Topics on the loop: the router's actions carried out (bridge activation, replays, frames), and
/// fan-out of shared frames.
extension ServiceLoop {
    typealias Router = TopicRouter<Connection, SharedFrame, JSONValue>

    /// Subscribes `connection` to wire topic `topic` (`user`: its own stream, `routed`).
    func subscribe(_ connection: Connection, id: JSONValue, topic: String, since: String?) {
        presence.subscribed(presenceKey(connection), topic: topic)
        carryOut(router.subscribe(connection, topic: routed(topic, for: connection), tag: id, since: since))
    }

    /// Ends `connection`'s subscription to wire topic `topic`.
    func unsubscribe(_ connection: Connection, topic: String) {
        presence.unsubscribed(presenceKey(connection), topic: topic)
        carryOut(router.unsubscribe(connection, topic: routed(topic, for: connection)))
    }

    /// The router's and the bridge's name for wire topic `topic` on `connection`: `user` is the
    /// connection's own stream, `user:<sub>` (shared by every connection of that sub, on every
    /// gateway); any other topic is its own name. Frames say the wire name
    /// (`EventFrameEncoder.wireName`).
    func routed(_ topic: String, for connection: Connection) -> String {
        guard topic == Topic.user.name, let sub = connection.machine.identity?.subject else { return topic }
        return UserEvents.topicName(sub: sub)
    }

    /// Do what the router asked, in order.
    private func carryOut(_ actions: [Router.Action]) {
        affinity.assertOnLoop("the topic router")
        for action in actions {
            switch action {
            case .activate(let topic):
                source.activate(topic: topic) { [self] position in
                    post { [self] in carryOut(router.activated(topic: topic, position: position)) }
                }
            case .deactivate(let topic):
                source.deactivate(topic: topic)
            case .replay(let connection, let topic, let since, let upTo, let ticket):
                let serial = connection.serial
                source.replay(topic: topic, since: since, upTo: upTo) { [self] result in
                    respondLater(toSession: serial) { [self] connection in
                        let outcome: Router.ReplayOutcome
                        switch result {
                        case .success(let batch):
                            outcome = .success(frames: batch.entries.map { SharedFrame($0.frame) }, recovered: batch.recovered)
                        case .failure(let error):
                            outcome = .failure(reason: "\(error)")
                        }
                        carryOut(router.replayFinished(connection, topic: topic, ticket: ticket, outcome))
                    }
                }
            case .subscribed(let connection, let id, let topic, let position, let recovered):
                let frame: JSONValue = [
                    "type": "subscribed", "id": id, "topic": .string(EventFrameEncoder.wireName(topic)),
                    "position": .string(position), "recovered": .bool(recovered),
                ]
                enqueue(SharedFrame(json: frame), on: connection)
            case .deliver(let connection, let frames, let replayed):
                guard !connection.draining else { break }
                if replayed {
                    connection.outbound.grantReplayAllowance(frames.count)
                    metrics.replayedEvents.add(frames.count)
                }
                for frame in frames { enqueue(frame, on: connection) }
            case .replayFailed(let connection, let id, let routedTopic, let reason):
                let topic = EventFrameEncoder.wireName(routedTopic)
                connection.machine.forget(topic: topic)
                presence.unsubscribed(presenceKey(connection), topic: topic)
                let frame = connection.machine.errorFrame(
                    .unavailable, "replay of \(topic) failed: \(reason); subscribe again", id: id)
                enqueue(SharedFrame(json: frame), on: connection)
            }
        }
    }

    /// Events from the bridge: one shared frame each, appended to every live subscriber's queue;
    /// idle subscribers are written to once the wake-up's jobs are done (`flushStaged`). A gap
    /// frame takes the same path, so it reaches each subscriber right before the events after the
    /// hole (and is held with them behind a replay in progress); it is not counted as an event.
    func fanOut(_ events: [(topic: String, id: String?, frame: SharedFrame, isGap: Bool)]) {
        affinity.assertOnLoop("fan-out")
        for event in events {
            let publication = router.publish(topic: event.topic, id: event.id, frame: event.frame) { connection in
                guard !connection.draining else { return }  // it resumes with `since` on another gateway
                enqueue(event.frame, on: connection, staging: true)
            }
            for connection in publication.overflowed {
                requestClose(connection, .rateLimited, "lagged: too many events during replay")
            }
            guard !event.isGap else { continue }
            let counters = metrics.topic(metricTopic(event.topic))
            if index == 0 { counters.ingested.add() }  // once per gateway
            guard publication.routed else { continue }
            if let id = event.id, let appended = StreamID(id) {  // stream ids are wall time
                metrics.observeDelivery(clock.read().wall - Double(appended.ms) / 1000)
            }
            counters.deliveries.add(publication.delivered)
        }
    }

    /// Topic label for metrics: `klines:*` and the users' streams collapsed so label cardinality
    /// stays bounded.
    func metricTopic(_ topic: String) -> String {
        topic.hasPrefix("klines:") ? "klines" : EventFrameEncoder.wireName(topic)
    }
}
