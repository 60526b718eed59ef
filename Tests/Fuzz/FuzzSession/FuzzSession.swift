import GatewayCore
import JSONCodec
import JWTAuth

@testable import Bedrock

/// The input as a client's session: one line per event. A line starting with `~` moves the clock
/// by its second byte × 0.25 s and ticks the machine (auth deadline, expiry, heartbeat); any other
/// line is one text frame, 10 ms after the one before. Tokens with dots go to the real verifier,
/// others are `sub:ROLE[:exp]` (see `fakeVerify`). Every action must be sane (see
/// `SessionCheck`); after a close nothing more is fed, as the gateway would not.
func fuzzSession(_ input: UnsafeRawBufferPointer) {
    var clock = ClockReading(monotonic: 1000, wall: 1_700_000_000)
    let machine = SessionMachine(sessionID: "fz", limits: limits, at: clock, identity: nil, authenticate: fakeVerify)
    var check = SessionCheck()
    for line in input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
        let before = machine.identity
        let actions: [SessionAction]
        if line.first == UInt8(ascii: "~") {
            let step = line.count > 1 ? Double(line[line.startIndex + 1]) * 0.25 : 1
            clock.monotonic += step
            clock.wall += step
            actions = machine.tick(at: clock)
        } else {
            clock.monotonic += 0.01
            clock.wall += 0.01
            actions = machine.receive(UnsafeRawBufferPointer(rebasing: line), at: clock)
        }
        if check.verify(actions, machine: machine, identityBefore: before) == .closed { return }
    }
}

/// The configured defaults, with a burst small enough to be exceeded within a short input.
private let limits: SessionLimits = {
    var limits = SessionLimits(GatewayConfig.Server())
    limits.messageBurst = 8
    return limits
}()

/// The real verifier (HS256, this secret), for tokens with dots: its refusals become close
/// reasons and error messages as they do in the gateway (`TokenCheck`).
private let verifier = JWTVerifier(secret: "fuzz-secret-0123456789-abcdefghijklmn")

/// A token with dots goes to the real verifier; otherwise `sub:ROLE` or `sub:ROLE:exp` (seconds
/// since the epoch) is valid — the fuzzer cannot sign tokens — and anything else is not.
private func fakeVerify(_ token: String) -> Result<Identity, AuthRefusal> {
    if token.utf8.contains(UInt8(ascii: ".")) {
        return verifier.verify(token, now: 1_700_000_000)
            .map { Identity(subject: $0.sub, role: $0.role, expiresAt: Double($0.exp)) }
            .mapError { AuthRefusal($0.reason) }
    }
    let parts = token.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, let role = Role(rawValue: String(parts[1])) else {
        return .failure(AuthRefusal("bad token"))
    }
    var expiry = 1_700_003_600.0
    if parts.count == 3 {
        guard let given = Double(parts[2]), given.isFinite else { return .failure(AuthRefusal("bad exp")) }
        expiry = given
    }
    return .success(Identity(subject: String(parts[0]), role: role, expiresAt: expiry))
}

/// What a gateway carrying out the actions would rely on, checked after every step.
struct SessionCheck {
    enum Outcome { case open, closed }

    /// The topics the actions subscribed to and did not unsubscribe from.
    private var subscribed: Set<String> = []
    private var authenticatedOnce = false

    mutating func verify(_ actions: [SessionAction], machine: SessionMachine, identityBefore: Identity?) -> Outcome {
        var closed = false
        for action in actions {
            guard !closed else { fatalError("an action after close: \(action)") }
            switch action {
            case .send(let frame):
                checkFrame(frame)
                if machine.identity == nil && identityBefore == nil {
                    guard frame["error_code"]?.stringValue == ErrorCode.rateLimited.rawValue else {
                        fatalError("a frame other than a rate-limit error to an unauthenticated client: \(frame)")
                    }
                }
            case .close(_, let reason):
                guard !reason.isEmpty, reason.utf8.count <= 123, reason.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) else {
                    fatalError("close reason not 1-123 printable ASCII bytes: \(reason.debugDescription)")
                }
                closed = true
            case .authenticated:
                guard identityBefore == nil, machine.identity != nil, !authenticatedOnce else {
                    fatalError("authenticated twice or without an identity")
                }
                authenticatedOnce = true
            case .subscribe(_, let topic, let since):
                guard machine.identity != nil, Topic(topic.name) == topic, subscribed.insert(topic.name).inserted else {
                    fatalError("subscribe to \(topic.name) unauthenticated, not canonical, or twice")
                }
                if let since, since != "0", StreamID(since) == nil { fatalError("bad since \(since)") }
            case .unsubscribe(_, let topic):
                subscribed.remove(topic.name)
            case .request:
                guard machine.identity != nil else { fatalError("a request from an unauthenticated client") }
            }
        }
        guard machine.subscriptions == subscribed else {
            fatalError("machine holds \(machine.subscriptions), its actions said \(subscribed)")
        }
        return closed ? .closed : .open
    }

    /// Every frame is an object with a string `type`; an `error` frame carries a known code, a
    /// message and a request id. Frames that echo what the client sent (errors, `unsubscribed`)
    /// must encode to JSON that parses back (the JSON target checks the codec's round trip in
    /// depth; checking it on every frame here would halve the executions per second).
    private func checkFrame(_ frame: JSONValue) {
        guard let type = frame["type"]?.stringValue else { fatalError("frame without a type: \(frame)") }
        guard type == "error" || type == "unsubscribed" else { return }
        if type == "error" {
            guard let code = frame["error_code"]?.stringValue, ErrorCode(rawValue: code) != nil,
                frame["message"]?.stringValue != nil, frame["request_id"]?.stringValue != nil
            else { fatalError("malformed error frame: \(frame)") }
        }
        let text = JSONCodec.encode(frame)
        guard (try? JSONCodec.parse(text)) != nil else {
            fatalError("frame does not encode to valid JSON: \(String(decoding: text, as: UTF8.self))")
        }
    }
}
