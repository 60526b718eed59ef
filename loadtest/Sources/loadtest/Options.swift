import Foundation

/// The settings of one load-generator run, resolved from the command line by `LoadTestCommand`
/// (scenario defaults applied, every value checked).
struct Options {
    /// One of `LoadTestCommand.Scenario`'s names.
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
    /// Distinct subjects signed (`--subjects`) and their prefix (`--subject-prefix`).
    var subjects = 1000
    var subjectPrefix = "loadtest-"
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
}

/// A run that cannot go on (bad settings, the publisher's Redis failing), with the message to print.
struct OptionsError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
