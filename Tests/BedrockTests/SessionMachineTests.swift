import GatewayCore
import JSONCodec
import XCTest

@testable import Bedrock

/// The per-connection protocol (SPEC §5) without any socket.
final class SessionMachineTests: XCTestCase {
    private let trader = Identity(subject: "alice", role: .trader, expiresAt: 10_000)
    private let viewer = Identity(subject: "vic", role: .viewer, expiresAt: 10_000)

    private func machine(
        identity: Identity? = nil, limits: SessionLimits = SessionLimits(GatewayConfig.Server()),
        tokens: [String: Identity] = [:]
    ) -> SessionMachine {
        SessionMachine(sessionID: "s1", limits: limits, at: at(1000), identity: identity) { token in
            tokens[token].map { .success($0) } ?? .failure(AuthRefusal("bad token"))
        }
    }

    /// The configured defaults with some values changed.
    private func limits(
        heartbeatInterval: Double? = nil, heartbeatTimeout: Double? = nil, authTimeout: Double? = nil,
        messagesPerSecond: Double? = nil, messageBurst: Double? = nil
    ) -> SessionLimits {
        var l = SessionLimits(GatewayConfig.Server())
        if let heartbeatInterval { l.heartbeatInterval = heartbeatInterval }
        if let heartbeatTimeout { l.heartbeatTimeout = heartbeatTimeout }
        if let authTimeout { l.authTimeout = authTimeout }
        if let messagesPerSecond { l.messagesPerSecond = messagesPerSecond }
        if let messageBurst { l.messageBurst = messageBurst }
        return l
    }

    /// Both clocks at `seconds` (tests that step one clock alone build their own reading).
    private func at(_ seconds: Double) -> ClockReading { ClockReading(monotonic: seconds, wall: seconds) }

    private func send(_ m: SessionMachine, _ text: String, at now: Double = 1001) -> [SessionAction] {
        Array(text.utf8).withUnsafeBytes { m.receive($0, at: at(now)) }
    }

    private func sentFrames(_ actions: [SessionAction]) -> [JSONValue] {
        actions.compactMap { if case .send(let f) = $0 { return f } else { return nil } }
    }

    private func errorCode(_ actions: [SessionAction]) -> String? {
        sentFrames(actions).first { $0["type"]?.stringValue == "error" }?["error_code"]?.stringValue
    }

    func testFirstFrameAuthWelcomesWithIdentity() {
        let m = machine(tokens: ["good": trader])
        let actions = send(m, #"{"type":"auth","token":"good"}"#)
        XCTAssertEqual(actions.first, .authenticated)
        let welcome = sentFrames(actions).first
        XCTAssertEqual(welcome?["type"], "welcome")
        XCTAssertEqual(welcome?["sub"], "alice")
        XCTAssertEqual(welcome?["role"], "TRADER")
        XCTAssertEqual(welcome?["session_id"], "s1")
        XCTAssertEqual(welcome?["expires_at"], "1970-01-01T02:46:40.000Z")
    }

    func testBadFirstTokenCloses4401() {
        let m = machine()
        XCTAssertEqual(send(m, #"{"type":"auth","token":"nope"}"#), [.close(.unauthenticated, "bad token")])
    }

    func testAnythingButAuthBeforeAuthenticationCloses4401() {
        let m = machine()
        guard case .close(.unauthenticated, _)? = send(m, #"{"type":"subscribe","id":1,"topic":"signals"}"#).first else {
            return XCTFail("expected close 4401")
        }
    }

    func testNoAuthWithinTimeoutCloses4401() {
        let m = machine(limits: limits(authTimeout: 5))
        XCTAssertEqual(m.tick(at: at(1004)), [])
        guard case .close(.unauthenticated, _)? = m.tick(at: at(1005.1)).first else { return XCTFail("expected 4401") }
    }

    func testMalformedFramesKeepTheConnection() {
        let m = machine(identity: trader)
        for text in [
            "{not json", "[1,2]", #"{"id":1}"#, #"{"type":"dance"}"#, #"{"type":"subscribe","id":2}"#,
            #"{"type":"request","id":3}"#, #"{"type":"request","id":3,"method":"x","params":[1]}"#,
        ] {
            let actions = send(m, text)
            XCTAssertEqual(errorCode(actions), "BAD_REQUEST", text)
            XCTAssertFalse(
                actions.contains {
                    if case .close = $0 { return true }; return false
                }, text)
        }
        XCTAssertEqual(sentFrames(send(m, #"{"type":"ping"}"#)), [["type": "pong"]])
    }

    func testErrorFrameCarriesIdTimestampAndRequestId() {
        let m = machine(identity: trader)
        let frame = sentFrames(send(m, #"{"type":"request","id":7,"method":"no.such"}"#)).first
        XCTAssertEqual(frame?["id"], 7)
        XCTAssertEqual(frame?["error_code"], "NOT_FOUND")
        XCTAssertNotNil(frame?["timestamp"]?.stringValue)
        XCTAssertEqual(frame?["request_id"], "s1-1")
    }

    func testSubscribeChecksTopicRoleAndSince() {
        let v = machine(identity: viewer)
        XCTAssertEqual(errorCode(send(v, #"{"type":"subscribe","id":1,"topic":"portfolio"}"#)), "FORBIDDEN")
        XCTAssertEqual(errorCode(send(v, #"{"type":"subscribe","id":1,"topic":"weather"}"#)), "BAD_REQUEST")
        XCTAssertEqual(errorCode(send(v, #"{"type":"subscribe","id":1,"topic":"signals","since":"yesterday"}"#)), "BAD_REQUEST")
        XCTAssertEqual(
            send(v, #"{"type":"subscribe","id":1,"topic":"klines:BTCUSDT:1h","since":"5-1"}"#),
            [.subscribe(id: 1, topic: .klines(market: "BTCUSDT", interval: "1h"), since: "5-1")])
        XCTAssertEqual(
            send(v, #"{"type":"subscribe","id":2,"topic":"signals","since":"$"}"#),
            [.subscribe(id: 2, topic: .signals, since: nil)])
        XCTAssertEqual(errorCode(send(v, #"{"type":"subscribe","id":3,"topic":"signals"}"#)), "CONFLICT")
        let t = machine(identity: trader)
        XCTAssertEqual(
            send(t, #"{"type":"subscribe","id":1,"topic":"portfolio","since":"0"}"#),
            [.subscribe(id: 1, topic: .portfolio, since: "0")])
    }

    func testAKlinesTopicInAnyMarketSpellingIsTheCanonicalTopic() {
        let v = machine(identity: viewer)
        XCTAssertEqual(
            send(v, #"{"type":"subscribe","id":1,"topic":"klines:btc-usdt:1h"}"#),
            [.subscribe(id: 1, topic: .klines(market: "BTCUSDT", interval: "1h"), since: nil)])
        for (n, spelling) in ["BTCUSDT", "BTC/USDT", "BTC_USDT"].enumerated() {
            let again = #"{"type":"subscribe","id":\#(n + 2),"topic":"klines:\#(spelling):1h"}"#
            XCTAssertEqual(errorCode(send(v, again)), "CONFLICT", "\(spelling) names the topic already held")
        }
        XCTAssertEqual(errorCode(send(v, #"{"type":"subscribe","id":9,"topic":"klines:BTC//USDT:1h"}"#)), "BAD_REQUEST")
        XCTAssertEqual(
            send(v, #"{"type":"unsubscribe","id":10,"topic":"klines:Btc/Usdt:1h"}"#),
            [
                .unsubscribe(id: 10, topic: .klines(market: "BTCUSDT", interval: "1h")),
                .send(["type": "unsubscribed", "id": 10, "topic": "klines:BTCUSDT:1h"]),
            ])
    }

    func testRequestsAreCheckedAgainstTheMethodTable() {
        let v = machine(identity: viewer)
        // The machine names the method; the method table, the one place roles are checked,
        // refuses it at once (no worker involved).
        let actions = send(v, #"{"type":"request","id":1,"method":"risk.kill_switch"}"#)
        XCTAssertEqual(actions, [.request(id: 1, method: .riskKillSwitch, params: JSONObject())])
        let call = MethodCall(subject: "viewer", role: .viewer, params: JSONObject())
        let refusal = MethodTable().invoke(.riskKillSwitch, call) { _ in XCTFail("a refused call must not reach a worker") }
        XCTAssertEqual(refusal, .failure(APIError(.forbidden, "role VIEWER may not call risk.kill_switch")))
        XCTAssertEqual(
            send(v, #"{"type":"request","id":2,"method":"account.get"}"#),
            [.request(id: 2, method: .accountGet, params: JSONObject())])
        XCTAssertEqual(errorCode(send(v, #"{"type":"request","id":3,"method":"no.such"}"#)), "NOT_FOUND")
    }

    func testHeartbeatPingsThenTimesOut() {
        let m = machine(identity: trader, limits: limits(heartbeatInterval: 10, heartbeatTimeout: 30))
        XCTAssertEqual(m.tick(at: at(1009)), [])
        XCTAssertEqual(sentFrames(m.tick(at: at(1010))), [["type": "ping"]])
        XCTAssertEqual(m.tick(at: at(1011)), [])
        _ = send(m, #"{"type":"pong"}"#, at: 1015)
        XCTAssertEqual(sentFrames(m.tick(at: at(1020))), [["type": "ping"]])
        guard case .close(.heartbeatTimeout, _)? = m.tick(at: at(1045)).first else { return XCTFail("expected 4408") }
    }

    func testAWallClockStepMovesNoDeadlineButTokenExpiryFollowsWallTime() {
        let m = machine(identity: trader, limits: limits(heartbeatInterval: 10, heartbeatTimeout: 30))
        // The system time jumps a day ahead: no heartbeat timeout, no ping storm, only the clock
        // tokens are judged by says the token (exp 10,000) has expired.
        let stepped = ClockReading(monotonic: 1001, wall: 1001 + 86_400)
        guard case .close(.unauthenticated, let reason)? = m.tick(at: stepped).first else {
            return XCTFail("expected 4401 for the expired token")
        }
        XCTAssertEqual(reason, "token expired")
        let fresh = machine(
            identity: Identity(subject: "alice", role: .trader, expiresAt: 1e12),
            limits: limits(heartbeatInterval: 10, heartbeatTimeout: 30))
        XCTAssertEqual(fresh.tick(at: stepped), [], "a wall step alone neither pings nor times out")
        XCTAssertEqual(fresh.tick(at: ClockReading(monotonic: 1001, wall: 1001 - 86_400)), [])
        XCTAssertEqual(sentFrames(fresh.tick(at: ClockReading(monotonic: 1010, wall: 0))), [["type": "ping"]])
        guard case .close(.heartbeatTimeout, _)? = fresh.tick(at: ClockReading(monotonic: 1030, wall: 0)).first else {
            return XCTFail("expected 4408 once 30 s passed on the monotonic clock")
        }
    }

    func testExpiredTokenCloses4401AndRefreshExtends() {
        let later = Identity(subject: "alice", role: .trader, expiresAt: 20_000)
        let mallory = Identity(subject: "mallory", role: .admin, expiresAt: 20_000)
        let m = machine(identity: trader, tokens: ["later": later, "other": mallory])
        XCTAssertEqual(errorCode(send(m, #"{"type":"auth","token":"other"}"#)), "FORBIDDEN")
        XCTAssertEqual(errorCode(send(m, #"{"type":"auth","token":"junk"}"#)), "UNAUTHENTICATED")
        XCTAssertEqual(sentFrames(send(m, #"{"type":"auth","token":"later"}"#)).first?["type"], "welcome")
        XCTAssertEqual(m.identity?.expiresAt, 20_000)
        _ = send(m, #"{"type":"pong"}"#, at: 14_999)
        XCTAssertTrue(
            m.tick(at: at(15_000)).allSatisfy {
                if case .close = $0 { return false }; return true
            })
        guard case .close(.unauthenticated, _)? = m.tick(at: at(20_000)).first else { return XCTFail("expected 4401") }
    }

    func testRateLimitWarnsThenCloses() {
        let m = machine(identity: trader, limits: limits(messagesPerSecond: 5, messageBurst: 10))
        var codes: [String] = []
        var closed: CloseCode?
        for _ in 0..<40 {
            let actions = send(m, #"{"type":"ping"}"#, at: 1001)
            if let code = errorCode(actions) { codes.append(code) }
            if case .close(let c, _)? = actions.first { closed = c; break }
        }
        XCTAssertEqual(codes, ["RATE_LIMITED"])
        XCTAssertEqual(closed, .rateLimited)
    }

    func testUnsubscribeAnswersUnsubscribed() {
        let m = machine(identity: viewer)
        _ = send(m, #"{"type":"subscribe","id":1,"topic":"signals"}"#)
        let actions = send(m, #"{"type":"unsubscribe","id":2,"topic":"signals"}"#)
        XCTAssertEqual(actions.first, .unsubscribe(id: 2, topic: .signals))
        XCTAssertEqual(sentFrames(actions), [["type": "unsubscribed", "id": 2, "topic": "signals"]])
        XCTAssertFalse(m.subscriptions.contains("signals"))
    }
}

/// Socket policies of the machine: authorisation after a refresh, the message-rate close and the
/// topics-per-connection cap, on a `ManualClock`.
final class SessionPolicyTests: XCTestCase {
    private let trader = Identity(subject: "alice", role: .trader, expiresAt: 10_000)

    private func machine(
        identity: Identity?, clock: ManualClock, limits: SessionLimits = SessionLimits(GatewayConfig.Server()),
        tokens: [String: Identity] = [:]
    ) -> SessionMachine {
        SessionMachine(sessionID: "s1", limits: limits, at: clock.read(), identity: identity) { token in
            tokens[token].map { .success($0) } ?? .failure(AuthRefusal("bad token"))
        }
    }

    private func send(_ m: SessionMachine, _ text: String, _ clock: ManualClock) -> [SessionAction] {
        Array(text.utf8).withUnsafeBytes { m.receive($0, at: clock.read()) }
    }

    private func sentFrames(_ actions: [SessionAction]) -> [JSONValue] {
        actions.compactMap { if case .send(let f) = $0 { return f } else { return nil } }
    }

    func testRefreshToALowerRoleEndsForbiddenSubscriptionsBeforeTheWelcome() {
        let clock = ManualClock(monotonic: 1000)
        let viewer = Identity(subject: "alice", role: .viewer, expiresAt: 20_000)
        let m = machine(identity: trader, clock: clock, tokens: ["viewer": viewer])
        for (id, topic) in [(1, "risk"), (2, "signals"), (3, "portfolio")] {
            _ = send(m, #"{"type":"subscribe","id":\#(id),"topic":"\#(topic)"}"#, clock)
        }
        let actions = send(m, #"{"type":"auth","token":"viewer"}"#, clock)
        XCTAssertEqual(actions.count, 5)
        XCTAssertEqual(
            Array(actions.prefix(4)),
            [
                .unsubscribe(id: .null, topic: .portfolio),
                .send(["type": "unsubscribed", "topic": "portfolio", "reason": "forbidden"]),
                .unsubscribe(id: .null, topic: .risk),
                .send(["type": "unsubscribed", "topic": "risk", "reason": "forbidden"]),
            ], "each topic leaves the router before anything else happens")
        XCTAssertEqual(sentFrames(actions).last?["type"], "welcome")
        XCTAssertEqual(sentFrames(actions).last?["role"], "VIEWER")
        XCTAssertEqual(m.subscriptions, ["signals"])
        XCTAssertEqual(
            sentFrames(send(m, #"{"type":"subscribe","id":4,"topic":"portfolio"}"#, clock)).first?["error_code"],
            "FORBIDDEN")
    }

    func testRefreshKeepingOrRaisingTheRoleKeepsEverySubscription() {
        let clock = ManualClock(monotonic: 1000)
        let admin = Identity(subject: "alice", role: .admin, expiresAt: 20_000)
        let m = machine(identity: trader, clock: clock, tokens: ["same": trader, "admin": admin])
        _ = send(m, #"{"type":"subscribe","id":1,"topic":"portfolio"}"#, clock)
        for token in ["same", "admin"] {
            let actions = send(m, #"{"type":"auth","token":"\#(token)"}"#, clock)
            XCTAssertEqual(actions.count, 1)
            XCTAssertEqual(sentFrames(actions).first?["type"], "welcome")
        }
        XCTAssertEqual(m.subscriptions, ["portfolio"])
    }

    func testSustainedFloodClosesWith4429() {
        let clock = ManualClock(monotonic: 1000)
        let m = machine(identity: trader, clock: clock)  // defaults: 50/s, burst 100
        var errors = 0
        var closedAt: Double?
        for _ in 0..<17_000 {  // 10 s at 1,700 messages/s: 34 times the limit
            let actions = send(m, #"{"type":"ping"}"#, clock)
            errors += sentFrames(actions).filter { $0["type"] == "error" }.count
            if case .close(let code, _)? = actions.first {
                XCTAssertEqual(code, .rateLimited)
                closedAt = clock.read().monotonic - 1000
                break
            }
            clock.advance(1.0 / 1700)
        }
        guard let closedAt else { return XCTFail("a flood at 34 times the limit was never closed") }
        XCTAssertLessThan(closedAt, 1)
        XCTAssertGreaterThanOrEqual(errors, 1, "told RATE_LIMITED before the close")
    }

    func testTopicsPerConnectionAreCapped() {
        let clock = ManualClock(monotonic: 1000)
        var limits = SessionLimits(GatewayConfig.Server())
        XCTAssertEqual(limits.maxTopics, 200, "the default")
        limits.maxTopics = 2
        let m = machine(identity: trader, clock: clock, limits: limits)
        XCTAssertEqual(
            send(m, #"{"type":"subscribe","id":1,"topic":"signals"}"#, clock), [.subscribe(id: 1, topic: .signals, since: nil)])
        XCTAssertEqual(
            send(m, #"{"type":"subscribe","id":2,"topic":"risk"}"#, clock), [.subscribe(id: 2, topic: .risk, since: nil)])
        let refused = sentFrames(send(m, #"{"type":"subscribe","id":3,"topic":"portfolio"}"#, clock)).first
        XCTAssertEqual(refused?["error_code"], "RATE_LIMITED")
        XCTAssertEqual(refused?["id"], 3)
        XCTAssertEqual(m.subscriptions, ["signals", "risk"])
        _ = send(m, #"{"type":"unsubscribe","id":4,"topic":"risk"}"#, clock)
        XCTAssertEqual(
            send(m, #"{"type":"subscribe","id":5,"topic":"portfolio"}"#, clock),
            [.subscribe(id: 5, topic: .portfolio, since: nil)])
    }
}
