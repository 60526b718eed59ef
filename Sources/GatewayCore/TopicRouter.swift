/// Subscriptions of one service loop as a state machine: each (subscriber, topic) goes
/// pending → replaying → live, and live events that arrive while a replay runs are held and
/// merged behind it, so a subscriber sees every event after its `since` once, in order (SPEC §5).
/// It never touches a socket or Redis: its owner carries out the returned actions (activate a
/// topic on the bridge, fetch a replay, send `subscribed`, queue frames) and feeds the answers
/// back. Confined to one loop thread.
///
/// `Subscriber` is the owner's connection object (held strongly while subscribed, so its
/// identity cannot be reused), `Frame` an encoded event, `Tag` the client's subscribe id.
public final class TopicRouter<Subscriber: AnyObject, Frame, Tag> {
    /// Live events a subscriber may have held during its replay before it is cut off.
    public let heldLimit: Int
    @usableFromInline var hubs: [String: TopicHub<Subscriber, Frame, Tag>] = [:]
    private var nextTicket: UInt64 = 0

    /// A router cutting off replaying subscribers that hold more than `heldLimit` live events.
    public init(heldLimit: Int) { self.heldLimit = heldLimit }

    /// Topics with at least one subscriber.
    public var topicCount: Int { hubs.count }
    /// Names of the topics with at least one subscriber.
    public var topicNames: [String] { Array(hubs.keys) }
    /// Newest stream id handed to `topic`'s subscribers; nil while the bridge resolves it.
    public func position(of topic: String) -> String? { hubs[topic]?.position }

    /// What the owner must do.
    public enum Action {
        /// Start bridging `topic` and report its newest id with `activated`.
        case activate(topic: String)
        /// Stop bridging `topic` (no subscriber left).
        case deactivate(topic: String)
        /// Fetch the entries in (since, upTo] and report with `replayFinished(ticket:)`.
        case replay(Subscriber, topic: String, since: String, upTo: String, ticket: UInt64)
        /// Tell the subscriber its subscription stands (`subscribed` frame).
        case subscribed(Subscriber, tag: Tag, topic: String, position: String, recovered: Bool)
        /// Queue these frames for the subscriber, in order; `replayed` frames earn queue room.
        case deliver(Subscriber, frames: [Frame], replayed: Bool)
        /// The replay failed: the subscription is gone; tell the subscriber why.
        case replayFailed(Subscriber, tag: Tag, topic: String, reason: String)
    }

    /// A subscribe the session machine accepted. `since` nil means live only.
    public func subscribe(_ subscriber: Subscriber, topic: String, tag: Tag, since: String?) -> [Action] {
        let hub =
            hubs[topic]
            ?? {
                let fresh = TopicHub<Subscriber, Frame, Tag>()
                hubs[topic] = fresh
                return fresh
            }()
        let key = ObjectIdentifier(subscriber)
        if let position = hub.position {
            return start(subscriber, key, hub, topic: topic, tag: tag, since: since, position: position)
        }
        hub.pending[key] = Pending(subscriber: subscriber, tag: tag, since: since)
        if hub.activated { return [] }
        hub.activated = true
        return [.activate(topic: topic)]
    }

    /// The bridge activated `topic` at `position`: every pending subscriber starts.
    public func activated(topic: String, position: String) -> [Action] {
        guard let hub = hubs[topic], hub.position == nil else { return [] }
        hub.position = position
        let waiting = hub.pending
        hub.pending = [:]
        var actions: [Action] = []
        for (key, pending) in waiting {
            actions += start(
                pending.subscriber, key, hub, topic: topic, tag: pending.tag, since: pending.since,
                position: position)
        }
        return actions
    }

    /// The position is known: live at once when `since` is absent or not behind it, else replay
    /// (since, position] first while live events are held.
    private func start(
        _ subscriber: Subscriber, _ key: ObjectIdentifier, _ hub: TopicHub<Subscriber, Frame, Tag>,
        topic: String, tag: Tag, since: String?, position: String
    ) -> [Action] {
        guard let since else {
            hub.goLive(subscriber, key)
            return [.subscribed(subscriber, tag: tag, topic: topic, position: position, recovered: false)]
        }
        if since != "0", let s = StreamID(since), let p = StreamID(position), s >= p {
            hub.goLive(subscriber, key)
            return [.subscribed(subscriber, tag: tag, topic: topic, position: position, recovered: s == p)]
        }
        nextTicket += 1
        hub.replaying[key] = Replaying(subscriber: subscriber, tag: tag, cutoff: position, ticket: nextTicket)
        return [.replay(subscriber, topic: topic, since: since, upTo: position, ticket: nextTicket)]
    }

    /// How a replay ended.
    public enum ReplayOutcome {
        /// The entries after `since`, in order; `recovered` false when the stream was trimmed
        /// past `since` (then `frames` is empty and the client reloads its state).
        case success(frames: [Frame], recovered: Bool)
        /// Redis could not answer.
        case failure(reason: String)
    }

    /// A replay came back. One for a subscription that has since gone (or been made anew) is
    /// ignored: `ticket` names the replay that was asked for.
    public func replayFinished(
        _ subscriber: Subscriber, topic: String, ticket: UInt64,
        _ outcome: ReplayOutcome
    ) -> [Action] {
        let key = ObjectIdentifier(subscriber)
        guard let hub = hubs[topic], let replay = hub.replaying[key], replay.ticket == ticket else { return [] }
        hub.replaying[key] = nil
        switch outcome {
        case .failure(let reason):
            var actions: [Action] = [.replayFailed(subscriber, tag: replay.tag, topic: topic, reason: reason)]
            actions += forget(key, in: hub, topic: topic)
            return actions
        case .success(let frames, let recovered):
            hub.goLive(subscriber, key)
            var actions: [Action] = [
                .subscribed(subscriber, tag: replay.tag, topic: topic, position: replay.cutoff, recovered: recovered)
            ]
            if !frames.isEmpty { actions.append(.deliver(subscriber, frames: frames, replayed: true)) }
            if !replay.held.isEmpty { actions.append(.deliver(subscriber, frames: replay.held, replayed: false)) }
            return actions
        }
    }

    /// Drop `subscriber`'s subscription to `topic` in whatever state it is.
    public func unsubscribe(_ subscriber: Subscriber, topic: String) -> [Action] {
        guard let hub = hubs[topic] else { return [] }
        return forget(ObjectIdentifier(subscriber), in: hub, topic: topic)
    }

    private func forget(_ key: ObjectIdentifier, in hub: TopicHub<Subscriber, Frame, Tag>, topic: String) -> [Action] {
        hub.remove(key)
        guard hub.isEmpty else { return [] }
        hubs[topic] = nil
        return hub.activated ? [.deactivate(topic: topic)] : []
    }

    /// What publishing one event did.
    public struct Publication {
        /// Live subscribers the frame was handed to.
        public var delivered: Int
        /// Replaying subscribers that now hold more than `heldLimit` events: cut them off.
        public var overflowed: [Subscriber]
        /// False when no subscriber of the topic was ready for events (the event was skipped).
        public var routed: Bool

        @usableFromInline
        init(delivered: Int, overflowed: [Subscriber], routed: Bool) {
            self.delivered = delivered
            self.overflowed = overflowed
            self.routed = routed
        }
    }

    /// One bridged event: `deliver` is called for each live subscriber; replaying subscribers
    /// hold it. A topic still waiting for its activation skips the event: the activation's
    /// position is at or after it (the bridge keeps order), so its subscribers start past it.
    @inlinable
    public func publish(topic: String, id: String?, frame: Frame, deliver: (Subscriber) -> Void) -> Publication {
        guard let hub = hubs[topic], hub.position != nil else {
            return Publication(delivered: 0, overflowed: [], routed: false)
        }
        if let id { hub.position = id }
        for subscriber in hub.live { deliver(subscriber) }
        var overflowed: [Subscriber] = []
        if !hub.replaying.isEmpty { overflowed = hub.hold(frame, limit: heldLimit) }
        return Publication(delivered: hub.live.count, overflowed: overflowed, routed: true)
    }
}

/// A subscribe waiting for its topic's activation.
@usableFromInline
struct Pending<Subscriber: AnyObject, Tag> {
    let subscriber: Subscriber
    let tag: Tag
    let since: String?
}

/// A replay in flight, with the live frames held behind it.
@usableFromInline
struct Replaying<Subscriber: AnyObject, Frame, Tag> {
    let subscriber: Subscriber
    let tag: Tag
    /// The topic's position when the replay started: the replay ends there, held frames follow.
    let cutoff: String
    let ticket: UInt64
    var held: [Frame] = []
}

/// Subscribers and stream position of one topic.
@usableFromInline
final class TopicHub<Subscriber: AnyObject, Frame, Tag> {
    /// Subscribers receiving live events, as a plain array: fan-out walks it with no lookup.
    @usableFromInline var live: ContiguousArray<Subscriber> = []
    var liveKeys: Set<ObjectIdentifier> = []
    var pending: [ObjectIdentifier: Pending<Subscriber, Tag>] = [:]
    @usableFromInline var replaying: [ObjectIdentifier: Replaying<Subscriber, Frame, Tag>] = [:]
    /// Newest stream id handed to subscribers; nil while the bridge resolves it.
    @usableFromInline var position: String?
    /// True once the bridge was asked to activate the topic.
    var activated = false

    var isEmpty: Bool { liveKeys.isEmpty && pending.isEmpty && replaying.isEmpty }

    func goLive(_ subscriber: Subscriber, _ key: ObjectIdentifier) {
        if liveKeys.insert(key).inserted { live.append(subscriber) }
    }

    func remove(_ key: ObjectIdentifier) {
        pending[key] = nil
        replaying[key] = nil
        if liveKeys.remove(key) != nil, let i = live.firstIndex(where: { ObjectIdentifier($0) == key }) {
            live.swapAt(i, live.count - 1)
            live.removeLast()
        }
    }

    /// Hold `frame` for every replaying subscriber; those over `limit` lose what they held and
    /// are returned (the owner cuts them off).
    @usableFromInline
    func hold(_ frame: Frame, limit: Int) -> [Subscriber] {
        var overflowed: [Subscriber] = []
        var index = replaying.values.startIndex
        while index != replaying.values.endIndex {
            replaying.values[index].held.append(frame)  // in place: no copy of the dictionary
            if replaying.values[index].held.count > limit {
                replaying.values[index].held = []
                overflowed.append(replaying.values[index].subscriber)
            }
            replaying.values.formIndex(after: &index)
        }
        return overflowed
    }
}
