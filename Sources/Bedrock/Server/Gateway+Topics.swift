import Transport

/// Topics on the loop: subscriptions, the bridge position of each topic, replay joined to the
/// live stream, and fan-out of shared frames.
extension Gateway {
    func subscribe(_ connection: Connection, id: JSONValue, topic: String, since: String?) {
        let hub = topics[topic] ?? {
            let fresh = TopicHub()
            topics[topic] = fresh
            return fresh
        }()
        hub.subscribers[connection.wsi] = connection
        if let position = hub.position {
            start(connection, topic: topic, id: id, since: since, position: position)
        } else if !hub.activated {
            hub.activated = true
            source.activate(topic: topic) { [self] position in
                post { [self] in activated(topic: topic, position: position) }
            }
        }
    }

    private func activated(topic: String, position: String) {
        guard let hub = topics[topic], hub.position == nil else { return }
        hub.position = position
        for connection in hub.subscribers.values {
            if case .pending(let id, let since) = connection.machine.subscriptions[topic] {
                start(connection, topic: topic, id: id, since: since, position: position)
            }
        }
    }

    /// The topic's position is known: go live at once, or replay (since, position] first.
    private func start(_ connection: Connection, topic: String, id: JSONValue, since: String?, position: String) {
        guard let since else {
            connection.machine.subscriptions[topic] = .live
            topics[topic]?.goLive(connection)
            enqueue(SharedFrame(json: subscribed(id, topic, position, recovered: false)), on: connection)
            return
        }
        if since != "0", let s = StreamID(since), let p = StreamID(position), s >= p {
            connection.machine.subscriptions[topic] = .live
            topics[topic]?.goLive(connection)
            enqueue(SharedFrame(json: subscribed(id, topic, position, recovered: s == p)), on: connection)
            return
        }
        connection.machine.subscriptions[topic] = .replaying(id: id, cutoff: position)
        connection.held[topic] = []
        topics[topic]?.replaying[connection.wsi] = connection
        let wsi = connection.wsi
        source.replay(topic: topic, since: since, upTo: position) { [self] result in
            let box = UncheckedBox(result)
            post { [self] in replayFinished(wsi, topic: topic, result: box.value) }
        }
    }

    private func replayFinished(_ wsi: WSI, topic: String, result: Result<ReplayBatch, Error>) {
        guard let connection = connections[wsi],
              case .replaying(let id, let cutoff) = connection.machine.subscriptions[topic]
        else { return }
        let held = connection.held.removeValue(forKey: topic) ?? []
        switch result {
        case .failure(let error):
            connection.machine.subscriptions[topic] = nil
            if let hub = topics[topic] { hub.remove(connection) }
            let frame = connection.machine.errorFrame(.unavailable, "replay of \(topic) failed: \(error); subscribe again", id: id)
            enqueue(SharedFrame(json: frame), on: connection)
        case .success(let batch):
            connection.machine.subscriptions[topic] = .live
            topics[topic]?.goLive(connection)
            enqueue(SharedFrame(json: subscribed(id, topic, cutoff, recovered: batch.recovered)), on: connection)
            connection.replayAllowance += batch.entries.count
            for entry in batch.entries { enqueue(SharedFrame(entry.frame), on: connection) }
            metrics.count("bedrock_replayed_events_total", by: batch.entries.count)
            for frame in held { enqueue(frame, on: connection) }
        }
    }

    private func subscribed(_ id: JSONValue, _ topic: String, _ position: String, recovered: Bool) -> JSONValue {
        ["type": "subscribed", "id": id, "topic": .string(topic), "position": .string(position), "recovered": .bool(recovered)]
    }

    func unsubscribe(_ connection: Connection, topic: String) {
        connection.machine.subscriptions[topic] = nil
        connection.held[topic] = nil
        guard let hub = topics[topic] else { return }
        hub.remove(connection)
        if hub.subscribers.isEmpty {
            topics[topic] = nil
            if hub.activated { source.deactivate(topic: topic) }
        }
    }

    /// Events from the bridge: one shared frame each, appended to every live subscriber's queue;
    /// idle subscribers are written to once the wake-up's jobs are done (`flushStaged`).
    func fanOut(_ events: [(topic: String, id: String?, frame: SharedFrame)]) {
        for event in events {
            let label = "topic=\"\(metricTopic(event.topic))\""
            if index == 0 { metrics.count("bedrock_events_ingested_total", labels: label) }  // once per gateway
            // A hub still waiting for its activation skips the event: the activation's position
            // is at or after it (the bridge's ordering), so its subscribers start past it anyway.
            guard let hub = topics[event.topic], hub.position != nil else { continue }
            if let id = event.id {
                hub.position = id
                if let appended = StreamID(id) { metrics.observeDelivery(now() - Double(appended.ms) / 1000) }
            }
            metrics.count("bedrock_ws_event_deliveries_total", labels: label, by: hub.live.count)
            for connection in hub.live { enqueue(event.frame, on: connection, staging: true) }
            for connection in hub.replaying.values {
                connection.held[event.topic, default: []].append(event.frame)
                if connection.held[event.topic]!.count > hardQueueLimit {
                    connection.held[event.topic] = nil
                    requestClose(connection, .rateLimited, "lagged: too many events during replay")
                }
            }
        }
    }

    /// Topic label for metrics: `klines:*` collapsed so label cardinality stays bounded.
    func metricTopic(_ topic: String) -> String { topic.hasPrefix("klines:") ? "klines" : topic }
}
