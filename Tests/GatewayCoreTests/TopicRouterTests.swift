import GatewayCore
import XCTest

/// A client connection as the router sees it; `received` is what reached its queue, in order.
final class Client {
    let name: String
    var received: [String] = []
    var subscribed: [(topic: String, position: String, recovered: Bool)] = []
    var failures: [String] = []
    init(_ name: String) { self.name = name }
}

/// An in-memory Redis stream and bridge: ids `n-0`, entries are their own ids as frames. The test
/// decides when the bridge activates a topic, publishes an entry, or answers a replay.
final class FakeStream {
    var entries: [String] = []
    /// How many entries the bridge has published to the router so far.
    var published = 0
    func append(_ count: Int) {
        for _ in 0..<count { entries.append("\(entries.count + 1)-0") }
    }
    var newest: String { entries.last ?? "0-0" }
    /// The entries in (since, upTo], as Redis' XRANGE with an exclusive start gives them.
    func range(after since: String, upTo: String) -> [String] {
        let s = StreamID(since)!, u = StreamID(upTo)!
        return entries.filter { StreamID($0)! > s && StreamID($0)! <= u }
    }
}

typealias Router = TopicRouter<Client, String, Int>

/// Carries out router actions the way a service loop does, but into plain arrays.
final class Owner {
    let router: Router
    let stream = FakeStream()
    var activations: [String] = []
    var deactivations: [String] = []
    var replays: [(client: Client, topic: String, since: String, upTo: String, ticket: UInt64)] = []

    init(heldLimit: Int = 100) { router = Router(heldLimit: heldLimit) }

    func run(_ actions: [Router.Action]) {
        for action in actions {
            switch action {
            case .activate(let topic): activations.append(topic)
            case .deactivate(let topic): deactivations.append(topic)
            case .replay(let client, let topic, let since, let upTo, let ticket):
                replays.append((client, topic, since, upTo, ticket))
            case .subscribed(let client, _, let topic, let position, let recovered):
                client.subscribed.append((topic, position, recovered))
            case .deliver(let client, let frames, _): client.received += frames
            case .replayFailed(let client, _, _, let reason): client.failures.append(reason)
            }
        }
    }

    func subscribe(_ client: Client, since: String? = nil, topic: String = "signals") {
        run(router.subscribe(client, topic: topic, tag: 1, since: since))
    }

    /// The bridge activates `topic` at the stream's newest id.
    func activate(_ topic: String = "signals") { run(router.activated(topic: topic, position: stream.newest)) }

    /// The bridge publishes every entry appended since its last read.
    @discardableResult
    func publishPending(topic: String = "signals") -> [Client] {
        var overflowed: [Client] = []
        while stream.published < stream.entries.count {
            let id = stream.entries[stream.published]
            stream.published += 1
            let publication = router.publish(topic: topic, id: id, frame: id) { $0.received.append(id) }
            overflowed += publication.overflowed
        }
        return overflowed
    }

    /// Answer the oldest replay request from the stream.
    func answerReplay(recovered: Bool = true) {
        let replay = replays.removeFirst()
        let frames = recovered ? stream.range(after: replay.since, upTo: replay.upTo) : []
        run(
            router.replayFinished(
                replay.client, topic: replay.topic, ticket: replay.ticket,
                .success(frames: frames, recovered: recovered)))
    }
}

final class TopicRouterTests: XCTestCase {
    func testTheFirstSubscriberActivatesTheTopicAndEveryoneStartsAtItsPosition() {
        let owner = Owner()
        owner.stream.append(3)
        let a = Client("a"), b = Client("b")
        owner.subscribe(a)
        owner.subscribe(b)
        XCTAssertEqual(owner.activations, ["signals"], "one activation per topic")
        XCTAssertTrue(a.subscribed.isEmpty, "nothing before the position is known")
        owner.activate()
        XCTAssertEqual(a.subscribed.map(\.position), ["3-0"])
        XCTAssertEqual(b.subscribed.map(\.recovered), [false])
        owner.stream.published = 3  // the bridge reads after the activation's position
        owner.stream.append(2)
        owner.publishPending()
        XCTAssertEqual(a.received, ["4-0", "5-0"])
        XCTAssertEqual(b.received, ["4-0", "5-0"])
        XCTAssertEqual(owner.router.position(of: "signals"), "5-0")
    }

    func testEventsBeforeTheActivationAreSkipped() {
        let owner = Owner()
        owner.stream.append(2)
        let a = Client("a")
        owner.subscribe(a)
        owner.publishPending()  // a batch from an earlier activation reaches the loop late
        XCTAssertEqual(a.received, [])
        owner.activate()
        owner.stream.append(1)
        owner.publishPending()
        XCTAssertEqual(a.received, ["3-0"])
    }

    func testSinceAtOrPastThePositionGoesLiveAtOnce() {
        let owner = Owner()
        owner.stream.append(5)
        owner.subscribe(Client("first"))
        owner.activate()
        owner.stream.published = 5
        let exact = Client("exact"), ahead = Client("ahead")
        owner.subscribe(exact, since: "5-0")
        owner.subscribe(ahead, since: "9-0")
        XCTAssertEqual(exact.subscribed.map(\.recovered), [true], "nothing after since was missed")
        XCTAssertEqual(ahead.subscribed.map(\.recovered), [false])
        XCTAssertTrue(owner.replays.isEmpty)
    }

    func testSinceZeroReplaysEverythingRetained() {
        let owner = Owner()
        owner.stream.append(3)
        let a = Client("a")
        owner.subscribe(a, since: "0")
        owner.activate()
        owner.stream.published = 3
        owner.answerReplay()
        XCTAssertEqual(a.received, ["1-0", "2-0", "3-0"])
        XCTAssertEqual(a.subscribed.map(\.recovered), [true])
    }

    /// The race the router exists for: live events arrive while the replay is on its way; the
    /// subscriber must see every event after `since` once, in order, whatever the interleaving.
    func testReplayRacingLiveEventsLosesAndRepeatsNothing() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let owner = Owner()
            let before = Int.random(in: 0...20, using: &generator)
            owner.stream.append(before)
            let watcher = Client("watcher")
            owner.subscribe(watcher)
            owner.activate()
            owner.stream.published = before
            owner.stream.append(Int.random(in: 0...5, using: &generator))
            owner.publishPending()

            let since = Int.random(in: 0...owner.stream.entries.count, using: &generator)
            let sinceID = since == 0 ? "0" : "\(since)-0"
            let client = Client("c\(round)")
            owner.subscribe(client, since: sinceID)
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                owner.stream.append(Int.random(in: 0...3, using: &generator))
                owner.publishPending()
            }
            if !owner.replays.isEmpty { owner.answerReplay() }
            owner.stream.append(Int.random(in: 0...3, using: &generator))
            owner.publishPending()

            let expected = owner.stream.entries.filter { StreamID($0)! > StreamID(since == 0 ? "0-0" : sinceID)! }
            XCTAssertEqual(client.received, expected, "round \(round), since \(sinceID)")
            XCTAssertEqual(client.subscribed.count, 1)
        }
    }

    func testAReplayAnswerForASubscriptionThatWasMadeAnewIsIgnored() {
        let owner = Owner()
        owner.stream.append(4)
        let a = Client("a")
        owner.subscribe(a)
        owner.activate()
        owner.stream.published = 4
        let b = Client("b")
        owner.subscribe(b, since: "1-0")
        let stale = owner.replays.removeFirst()
        owner.run(owner.router.unsubscribe(b, topic: "signals"))
        owner.subscribe(b, since: "3-0")
        owner.run(
            owner.router.replayFinished(
                b, topic: "signals", ticket: stale.ticket,
                .success(frames: ["2-0", "3-0", "4-0"], recovered: true)))
        XCTAssertTrue(b.received.isEmpty, "the first subscription's replay must not land on the second")
        owner.answerReplay()
        XCTAssertEqual(b.received, ["4-0"])
    }

    func testASubscriptionEndedDuringItsReplayGetsNeitherTheReplayNorLiveEvents() {
        // What a token refresh to a lower role does: the loop unsubscribes at once, while the
        // replay is still on its way from Redis.
        let owner = Owner()
        owner.stream.append(3)
        let watcher = Client("watcher")
        owner.subscribe(watcher)
        owner.activate()
        owner.stream.published = 3
        let demoted = Client("demoted")
        owner.subscribe(demoted, since: "1-0")
        owner.stream.append(1)
        owner.publishPending()  // held behind the replay
        owner.run(owner.router.unsubscribe(demoted, topic: "signals"))
        owner.answerReplay()
        owner.stream.append(1)
        owner.publishPending()
        XCTAssertTrue(demoted.received.isEmpty, "got \(demoted.received)")
        XCTAssertTrue(demoted.subscribed.isEmpty)
        XCTAssertEqual(watcher.received, ["4-0", "5-0"])
    }

    func testAFailedReplayEndsTheSubscriptionAndTheLastOneDeactivatesTheTopic() {
        let owner = Owner()
        owner.stream.append(2)
        let a = Client("a")
        owner.subscribe(a, since: "1-0")
        owner.activate()
        let replay = owner.replays.removeFirst()
        owner.run(owner.router.replayFinished(a, topic: "signals", ticket: replay.ticket, .failure(reason: "redis down")))
        XCTAssertEqual(a.failures, ["redis down"])
        XCTAssertEqual(owner.deactivations, ["signals"])
        XCTAssertEqual(owner.router.topicCount, 0)
    }

    func testATrimmedStreamIsReportedNotRecoveredAndLiveEventsStillFollow() {
        let owner = Owner()
        owner.stream.append(3)
        let a = Client("a")
        owner.subscribe(a, since: "1-0")
        owner.activate()
        owner.stream.published = 3
        owner.stream.append(1)
        owner.publishPending()
        owner.answerReplay(recovered: false)
        XCTAssertEqual(a.subscribed.map(\.recovered), [false])
        XCTAssertEqual(a.received, ["4-0"], "held live events follow; nothing partial is replayed")
    }

    func testASubscriberHoldingTooManyEventsDuringItsReplayIsReported() {
        let owner = Owner(heldLimit: 3)
        owner.stream.append(1)
        let a = Client("a")
        owner.subscribe(a, since: "0")
        owner.activate()
        owner.stream.published = 1
        owner.stream.append(3)
        XCTAssertTrue(owner.publishPending().isEmpty)
        owner.stream.append(1)
        XCTAssertEqual(owner.publishPending().map(\.name), ["a"])
    }

    func testUnsubscribingTheLastSubscriberDeactivatesAndALateActivationIsIgnored() {
        let owner = Owner()
        let a = Client("a"), b = Client("b")
        owner.subscribe(a)
        owner.subscribe(b)
        owner.run(owner.router.unsubscribe(a, topic: "signals"))
        XCTAssertEqual(owner.deactivations, [])
        owner.run(owner.router.unsubscribe(b, topic: "signals"))
        XCTAssertEqual(owner.deactivations, ["signals"])
        owner.activate()
        XCTAssertTrue(a.subscribed.isEmpty && b.subscribed.isEmpty)
        XCTAssertEqual(owner.router.topicCount, 0)
    }
}

/// A gap frame (no stream id) published while a subscriber's replay runs.
final class TopicRouterGapTests: XCTestCase {
    func testAGapDuringAReplayIsHeldAndFollowsTheReplayInOrder() {
        let owner = Owner()
        owner.stream.append(3)
        let live = Client("live"), late = Client("late")
        owner.subscribe(live)
        owner.activate()
        owner.stream.published = 3
        owner.subscribe(late, since: "1-0")  // replays (1-0, 3-0] while live events go on
        owner.stream.append(1)
        owner.publishPending()  // 4-0 held for `late`
        _ = owner.router.publish(topic: "signals", id: nil, frame: "gap 4-0…9-0") { $0.received.append("gap 4-0…9-0") }
        owner.stream.append(5)
        owner.stream.published = 8  // 5-0…8-0 were trimmed before the bridge read them
        owner.publishPending()  // 9-0
        XCTAssertEqual(live.received, ["4-0", "gap 4-0…9-0", "9-0"])
        XCTAssertEqual(owner.router.position(of: "signals"), "9-0", "a gap does not move the position")
        owner.answerReplay()
        XCTAssertEqual(late.received, ["2-0", "3-0", "4-0", "gap 4-0…9-0", "9-0"])
    }
}
