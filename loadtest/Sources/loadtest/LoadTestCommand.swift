import ArgumentParser
import Foundation
import JSONCodec

/// The command line of `loadtest`: a scenario and its flags. Flags left out take the scenario's
/// default (see `resolved()`); `options()` checks everything and returns the run's settings.
struct LoadTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Thousands of WebSocket connections from one process against a running Bedrock gateway.",
        discussion: """
            Exit status: 0 when the scenario's checks passed, 1 when something failed, 2 on bad usage.
            Tokens are signed with --jwt-secret (or env BEDROCK_JWT_SECRET) unless --token is given.
            See loadtest/README.md.
            """)

    /// What the run does (loadtest/README.md, "Scenarios").
    enum Scenario: String, CaseIterable, ExpressibleByArgument {
        case connect, hold, fanout, smoke, request, mixed, soak
    }

    /// The client implementation.
    enum Client: String, CaseIterable, ExpressibleByArgument {
        case lws, raw
    }

    /// The libwebsockets client's event loop.
    enum EventLib: String, CaseIterable, ExpressibleByArgument {
        case ev, poll
    }

    @Argument(help: "The scenario.")
    var scenario: Scenario

    @Option(help: "Gateway address (loopback only).")
    var host = "127.0.0.1"
    @Option(help: "Gateway port.")
    var port = 8080
    @Option(help: "WebSocket path.")
    var path = "/ws"
    @Option(help: "WebSocket connections (default 1000; smoke 500, request 100).")
    var connections: Int?
    @Option(help: "Handshakes in flight at once.")
    var concurrency = 200
    @Option(help: ArgumentHelp("Hold time / publishing time in seconds (default 10; soak 1800).", valueName: "seconds"))
    var duration: Double?
    @Option(help: "Events/s appended by the publisher (default 1000; mixed 100, soak 20).")
    var rate: Double?
    @Option(help: "Total events to publish (default rate × duration; smoke 200).")
    var events: Int?
    @Option(help: ArgumentHelp("redis://host:port[/db] of the gateway's Redis.", valueName: "url"))
    var redis = "redis://127.0.0.1:6379"
    @Option(help: "Topic to subscribe to.")
    var topic = "signals"
    @Option(help: "Redis key prefix.")
    var prefix = "bedrock:"
    @Option(
        name: .customLong("server-pid"),
        help: ArgumentHelp("Gateway pid: RSS before/after and CPU time over the run.", valueName: "pid"))
    var serverPID: Int?
    @Option(
        name: .customLong("jwt-secret"),
        help: ArgumentHelp("HS256 secret to sign tokens (default: env BEDROCK_JWT_SECRET).", valueName: "secret"))
    var jwtSecret: String?
    @Option(help: "Use this token instead of signing.")
    var token: String?
    @Option(help: "Distinct token subjects, used round-robin (<prefix>0, <prefix>1, ...).")
    var subjects = 1000
    @Option(name: .customLong("subject-prefix"), help: ArgumentHelp("Prefix of the signed subjects.", valueName: "text"))
    var subjectPrefix = "loadtest-"
    @Option(name: .customLong("jwt-issuer"), help: ArgumentHelp("Issuer claim to add when signing.", valueName: "issuer"))
    var jwtIssuer: String?
    @Option(name: .customLong("jwt-audience"), help: ArgumentHelp("Audience claim to add when signing.", valueName: "audience"))
    var jwtAudience: String?
    @Option(name: .customLong("json"), help: ArgumentHelp("Also write the results as JSON.", valueName: "file"))
    var jsonPath: String?
    @Option(
        name: .customLong("timeout"), help: ArgumentHelp("Limit of each setup / drain phase in seconds.", valueName: "seconds"))
    var phaseTimeout = 60.0
    @Option(name: .customLong("rx-buffer"), help: ArgumentHelp("lws receive buffer per connection in bytes.", valueName: "bytes"))
    var rxBuffer = 4096
    @Option(name: .customLong("event-lib"), help: "Client event loop: libev/epoll or lws's poll().")
    var eventLib = EventLib.ev
    @Option(help: "libwebsockets' client, or plain sockets on epoll (a cheaper frame parser).")
    var client = Client.lws
    @Option(help: "Requests in flight per requesting connection (default 8; mixed 4, soak 1).")
    var inflight: Int?
    @Option(help: "Request method.")
    var method = "positions.estimate"
    @Option(help: ArgumentHelp("Request params: a JSON object, sent as given.", valueName: "json"))
    var params = #"{"market":"BTCUSDT","entry_price":100,"stop_loss_price":95}"#
    @Option(help: "Connections sending requests (request: all; mixed/soak default connections/10).")
    var requesters: Int?
    @Option(
        name: .customLong("request-rate"),
        help: ArgumentHelp(
            "Requests/s over all requesters, paced (default 0: closed loop; mixed 1000, soak 200).", valueName: "rate"))
    var requestRate: Double?
    @Option(
        name: .customLong("request-timeout"),
        help: ArgumentHelp("An unanswered request counts as missing after this many seconds.", valueName: "seconds"))
    var requestTimeout = 10.0
    @Option(
        name: .customLong("sample-every"),
        help: ArgumentHelp("Server RSS/fd sample interval in seconds (with --server-pid).", valueName: "seconds"))
    var sampleEvery = 10.0
    @Option(
        help: ArgumentHelp("Soak: seconds left out of the RSS/fd judgement (default 10 % of --duration).", valueName: "seconds"))
    var warmup: Double?
    @Flag(help: "Only the result table (no progress lines on stderr).")
    var quiet = false

    /// The run's settings: the scenario's defaults under the flags given, each value checked.
    /// `environment` supplies `BEDROCK_JWT_SECRET` when `--jwt-secret` is absent.
    func options(environment: [String: String] = ProcessInfo.processInfo.environment) throws(OptionsError) -> Options {
        var o = Options()
        o.scenario = scenario.rawValue
        switch scenario {
        case .smoke: o.connections = 500; o.events = 200
        case .request: o.connections = 100
        case .mixed: o.rate = 100; o.inflight = 4; o.requestRate = 1000
        case .soak: o.rate = 20; o.inflight = 1; o.requestRate = 200; o.duration = 1800
        case .connect, .hold, .fanout: break
        }
        o.host = host
        o.port = try check("--port", port, 1...65535)
        o.path = path
        if let connections { o.connections = try check("--connections", connections, 1...100_000) }
        o.concurrency = try check("--concurrency", concurrency, 1...10_000)
        if let duration { o.duration = try check("--duration", duration, 0...86_400) }
        if let rate { o.rate = try check("--rate", rate, 0.001...10_000_000) }
        if let events { o.events = try check("--events", events, 0...100_000_000) }
        o.redis = redis
        o.topic = topic
        o.prefix = prefix
        if let serverPID { o.serverPID = Int32(try check("--server-pid", serverPID, 1...Int(Int32.max))) }
        o.jwtSecret = jwtSecret ?? environment["BEDROCK_JWT_SECRET"]
        o.token = token
        o.subjects = try check("--subjects", subjects, 1...100_000)
        o.subjectPrefix = subjectPrefix
        o.jwtIssuer = jwtIssuer
        o.jwtAudience = jwtAudience
        o.jsonPath = jsonPath
        o.phaseTimeout = try check("--timeout", phaseTimeout, 1...3600)
        o.rxBuffer = try check("--rx-buffer", rxBuffer, 512...1 << 20)
        o.eventLib = eventLib.rawValue
        o.client = client.rawValue
        if let inflight { o.inflight = try check("--inflight", inflight, 1...1024) }
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter || $0 == "." || $0 == "_" }) else {
            throw OptionsError("--method: letters, dots and underscores")
        }
        o.method = method
        guard (try? JSONCodec.parse(Array(params.utf8), rejectDuplicateKeys: false))?.objectValue != nil else {
            throw OptionsError("--params must be a JSON object")
        }
        o.params = params.replacingOccurrences(of: "\n", with: " ")
        if let requesters { o.requesters = try check("--requesters", requesters, 0...100_000) }
        if let requestRate { o.requestRate = try check("--request-rate", requestRate, 0...10_000_000) }
        o.requestTimeout = try check("--request-timeout", requestTimeout, 0.1...3600)
        o.sampleEvery = try check("--sample-every", sampleEvery, 0.1...3600)
        if let warmup { o.warmup = try check("--warmup", warmup, 0...86_400) }
        o.quiet = quiet

        guard ["127.0.0.1", "localhost", "::1"].contains(o.host) || o.host.hasPrefix("127.") else {
            throw OptionsError("--host must be a loopback address")
        }
        if let n = o.requesters, n > o.connections {
            throw OptionsError("--requesters exceeds --connections")
        }
        if o.scenario == "soak" && o.serverPID == nil {
            throw OptionsError("soak needs --server-pid (it samples the server's RSS and descriptors)")
        }
        if o.token == nil && (o.jwtSecret ?? "").isEmpty {
            throw OptionsError("give --jwt-secret (or BEDROCK_JWT_SECRET) or --token")
        }
        return o
    }

    private func check(_ flag: String, _ value: Int, _ range: ClosedRange<Int>) throws(OptionsError) -> Int {
        guard range.contains(value) else { throw OptionsError("\(flag): expected an integer in \(range)") }
        return value
    }

    private func check(_ flag: String, _ value: Double, _ range: ClosedRange<Double>) throws(OptionsError) -> Double {
        guard range.contains(value) else { throw OptionsError("\(flag): expected a number in \(range)") }
        return value
    }
}
