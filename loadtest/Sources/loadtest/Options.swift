import Foundation
import JSONCodec

/// Command-line settings of one load-generator run. Parsed by hand (the target has no
/// argument-parser dependency); every flag has a default so each scenario runs with no flags.
struct Options {
    static let scenarios = ["connect", "hold", "fanout", "smoke", "request", "mixed", "soak"]
    /// One of `scenarios`.
    var scenario = ""
    var host = "127.0.0.1"
    var port = 8080
    var path = "/ws"
    var connections = 1000
    /// Connections being set up at the same time (started, no `welcome` yet).
    var concurrency = 200
    /// Seconds: `hold` time, or `fanout` publishing time.
    var duration = 10.0
    /// Events per second appended by the publisher (`fanout`, `smoke`).
    var rate = 1000.0
    /// Total events to publish (`smoke`; `fanout` publishes `rate × duration` when nil).
    var events: Int?
    var redis = "redis://127.0.0.1:6379"
    var topic = "signals"
    var prefix = "bedrock:"
    var serverPID: Int32?
    var jwtSecret: String?
    var token: String?
    var jwtIssuer: String?
    var jwtAudience: String?
    var jsonPath: String?
    /// Seconds allowed for connecting / subscribing / draining before a phase gives up.
    var phaseTimeout = 60.0
    /// Bytes of lws receive buffer per connection (larger frames arrive in fragments).
    var rxBuffer = 4096
    var quiet = false
    /// `ev` (libev, epoll) or `poll` (lws's built-in poll loop).
    var eventLib = "ev"
    /// `lws` (libwebsockets' client) or `raw` (plain sockets on epoll, `RawClientPool`).
    var client = "lws"
    /// Requests in flight per requesting connection (`request`, `mixed`, `soak`).
    var inflight = 8
    /// Method and params (a JSON object, sent as given) of every request.
    var method = "positions.estimate"
    var params = #"{"market":"BTCUSDT","entry_price":100,"stop_loss_price":95}"#
    /// Connections that send requests (`request`: all; `mixed`/`soak`: the first ones).
    var requesters: Int?
    /// Requests/s over all requesters (paced); 0: as fast as answers come back (closed loop).
    var requestRate = 0.0
    /// Seconds after which an unanswered request counts as missing.
    var requestTimeout = 10.0
    /// Seconds between samples of the server's RSS and open descriptors (needs `--server-pid`).
    var sampleEvery = 10.0
    /// Seconds of the run left out of the RSS/fd judgement (`soak`; default 10 % of the duration).
    var warmup: Double?

    /// Whether this scenario subscribes every connection and runs a publisher.
    var publishes: Bool { ["fanout", "smoke", "mixed", "soak"].contains(scenario) }
    /// Whether this scenario sends requests.
    var sendsRequests: Bool { ["request", "mixed", "soak"].contains(scenario) }

    static let usage = """
    usage: loadtest <connect|hold|fanout|smoke|request|mixed|soak> [flags]
      --host H            gateway address (loopback only; default 127.0.0.1)
      --port N            gateway port (default 8080)
      --connections N     WebSocket connections (default 1000; smoke 500)
      --concurrency N     handshakes in flight at once (default 200)
      --duration S        hold time / publishing time in seconds (default 10)
      --rate R            events/s appended by the publisher (default 1000)
      --events N          total events to publish (smoke default 200)
      --redis URL         redis://host:port[/db] of the gateway's Redis (default redis://127.0.0.1:6379)
      --topic T           topic to subscribe to (default signals)
      --prefix P          Redis key prefix (default bedrock:)
      --server-pid P      gateway pid: RSS before/after and CPU time over the run
      --jwt-secret S      HS256 secret to sign tokens (default: env BEDROCK_JWT_SECRET)
      --token T           use this token instead of signing
      --jwt-issuer I / --jwt-audience A   claims to add when signing
      --json FILE         also write the results as JSON
      --timeout S         limit for each setup/drain phase (default 60)
      --rx-buffer N       lws receive buffer per connection (default 4096)
      --event-lib ev|poll client event loop: libev/epoll (default) or lws's poll()
      --client lws|raw    libwebsockets' client (default) or plain sockets on epoll (a cheaper
                          frame parser: the load generator's own CPU per frame is about halved)
      --inflight K        requests in flight per requesting connection (default 8; mixed 4, soak 1)
      --method M          request method (default positions.estimate)
      --params JSON       request params object (default {"market":"BTCUSDT","entry_price":100,"stop_loss_price":95})
      --requesters N      connections sending requests (request: all; mixed/soak default connections/10)
      --request-rate R    requests/s over all requesters, paced (default 0: closed loop; mixed 1000, soak 200)
      --request-timeout S an unanswered request counts as missing after S s (default 10)
      --sample-every S    server RSS/fd sample interval with --server-pid (default 10)
      --warmup S          soak: seconds left out of the RSS/fd judgement (default 10 % of --duration)
      --quiet             only the result table
    """

    /// Parses `arguments` (without the program name); returns an error message on bad input.
    static func parse(_ arguments: [String]) -> Result<Options, OptionsError> {
        var options = Options()
        var rest = arguments[...]
        guard let scenario = rest.popFirst(), !scenario.hasPrefix("-") else { return .failure(.init(usage)) }
        guard scenarios.contains(scenario) else {
            return .failure(.init("unknown scenario \(scenario)\n\(usage)"))
        }
        options.scenario = scenario
        if scenario == "smoke" { options.connections = 500; options.events = 200 }
        if scenario == "request" { options.connections = 100 }
        if scenario == "mixed" { options.rate = 100; options.inflight = 4; options.requestRate = 1000 }
        if scenario == "soak" { options.rate = 20; options.inflight = 1; options.requestRate = 200; options.duration = 1800 }
        options.jwtSecret = ProcessInfo.processInfo.environment["BEDROCK_JWT_SECRET"]
        while let flag = rest.popFirst() {
            if flag == "--quiet" { options.quiet = true; continue }
            if flag == "-h" || flag == "--help" { return .failure(.init(usage)) }
            guard let value = rest.popFirst() else { return .failure(.init("\(flag) needs a value")) }
            func int(_ range: ClosedRange<Int>) throws(OptionsError) -> Int {
                guard let v = Int(value), range.contains(v) else { throw OptionsError("\(flag): expected an integer in \(range)") }
                return v
            }
            func double(_ range: ClosedRange<Double>) throws(OptionsError) -> Double {
                guard let v = Double(value), range.contains(v) else { throw OptionsError("\(flag): expected a number in \(range)") }
                return v
            }
            do {
                switch flag {
                case "--host": options.host = value
                case "--port": options.port = try int(1...65535)
                case "--path": options.path = value
                case "--connections": options.connections = try int(1...100_000)
                case "--concurrency": options.concurrency = try int(1...10_000)
                case "--duration": options.duration = try double(0...86_400)
                case "--rate": options.rate = try double(0.001...10_000_000)
                case "--events": options.events = try int(0...100_000_000)
                case "--redis": options.redis = value
                case "--topic": options.topic = value
                case "--prefix": options.prefix = value
                case "--server-pid": options.serverPID = Int32(try int(1...Int(Int32.max)))
                case "--jwt-secret": options.jwtSecret = value
                case "--token": options.token = value
                case "--jwt-issuer": options.jwtIssuer = value
                case "--jwt-audience": options.jwtAudience = value
                case "--json": options.jsonPath = value
                case "--timeout": options.phaseTimeout = try double(1...3600)
                case "--rx-buffer": options.rxBuffer = try int(512...1 << 20)
                case "--inflight": options.inflight = try int(1...1024)
                case "--method":
                    guard !value.isEmpty, value.allSatisfy({ $0.isLetter || $0 == "." || $0 == "_" }) else {
                        return .failure(.init("--method: letters, dots and underscores"))
                    }
                    options.method = value
                case "--params":
                    guard (try? JSONCodec.parse(Array(value.utf8), rejectDuplicateKeys: false))?.objectValue != nil else {
                        return .failure(.init("--params must be a JSON object"))
                    }
                    options.params = value.replacingOccurrences(of: "\n", with: " ")
                case "--requesters": options.requesters = try int(0...100_000)
                case "--request-rate": options.requestRate = try double(0...10_000_000)
                case "--request-timeout": options.requestTimeout = try double(0.1...3600)
                case "--sample-every": options.sampleEvery = try double(0.1...3600)
                case "--warmup": options.warmup = try double(0...86_400)
                case "--client":
                    guard value == "lws" || value == "raw" else { return .failure(.init("--client is lws or raw")) }
                    options.client = value
                case "--event-lib":
                    guard value == "ev" || value == "poll" else { return .failure(.init("--event-lib is ev or poll")) }
                    options.eventLib = value
                default: return .failure(.init("unknown flag \(flag)\n\(usage)"))
                }
            } catch { return .failure(error) }
        }
        guard ["127.0.0.1", "localhost", "::1"].contains(options.host) || options.host.hasPrefix("127.") else {
            return .failure(.init("--host must be a loopback address"))
        }
        if let n = options.requesters, n > options.connections {
            return .failure(.init("--requesters exceeds --connections"))
        }
        if options.scenario == "soak" && options.serverPID == nil {
            return .failure(.init("soak needs --server-pid (it samples the server's RSS and descriptors)"))
        }
        if options.token == nil && (options.jwtSecret ?? "").isEmpty {
            return .failure(.init("give --jwt-secret (or BEDROCK_JWT_SECRET) or --token"))
        }
        return .success(options)
    }
}

/// A command-line mistake, with the message to print.
struct OptionsError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
