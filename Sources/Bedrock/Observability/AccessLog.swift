import Logging

/// One HTTP answer as the access log shows it (SPEC §13): never the query string, never a header.
struct AccessEntry {
    /// The `X-Request-ID` the answer carries.
    var requestID: String
    var method: String
    /// The path without its query string.
    var path: String
    var status: Int
    /// From the request's arrival to its answer, in microseconds.
    var micros: Int
    /// The bearer token's subject on `/v1`, empty elsewhere.
    var subject: String
    /// The API key's name (`api.keys`) when the caller used one; never the key.
    var apiKeyName: String? = nil
}

/// Writes the `http request` line of every HTTP answer: at `info`, or at `debug` for the probe
/// routes (`/health*`, `/ready`, `/metrics`) so a load balancer's or kubelet's probes do not
/// flood the log; nothing when `log.requests` is false. The line is the one `StderrLogHandler`
/// would write for the same fields, but formatted straight into a reused byte buffer: no
/// `Logger.Metadata` dictionary, no `String` per field, at tens of thousands of answers a second.
///
/// Threading: one per service loop, used only on that loop's thread; lines go to the process's
/// `LogWriter`, which any thread may append to.
final class AccessLog {
    /// Whether answers to ordinary routes are written (`log.requests` and `info` enabled).
    let logsRequests: Bool
    /// Whether answers to the probe routes are written (`log.requests` and `debug` enabled).
    let logsProbes: Bool
    private let format: StderrLogHandler.Format
    private let writer: LogWriter
    /// Loop-owned scratch: emptied, capacity kept, after each line.
    private var line = LogLine()

    /// The access log `config` asks for, written to standard error.
    convenience init(_ config: GatewayConfig.Log) {
        self.init(config, writer: .standardError)
    }

    init(_ config: GatewayConfig.Log, writer: LogWriter) {
        let level = Logger.Level(config.level)
        logsRequests = config.requests && level <= .info
        logsProbes = config.requests && level <= .debug
        format = config.format == .json ? .json : .text
        self.writer = writer
    }

    /// True for the routes a load balancer, a kubelet or a scraper calls: logged at `debug`.
    static func isProbe(_ path: String) -> Bool {
        path == "/health" || path.hasPrefix("/health/") || path == "/ready" || path == "/metrics"
    }

    /// Whether an answer to `path` is written at all (check before gathering the entry).
    func wants(_ path: String) -> Bool {
        AccessLog.isProbe(path) ? logsProbes : logsRequests
    }

    /// Write the line of `entry` (service thread).
    func write(_ entry: AccessEntry) {
        line.bytes.removeAll(keepingCapacity: true)
        line.timestamp()
        format(entry, level: AccessLog.isProbe(entry.path) ? .debug : .info, into: &line)
        line.bytes.append(UInt8(ascii: "\n"))
        writer.append(line.bytes)
    }

    /// The line of `entry` at `level` after the timestamp already in `line`.
    func format(_ entry: AccessEntry, level: Logger.Level, into line: inout LogLine) {
        switch format {
        case .json:
            line.bytes.insert(contentsOf: #"{"ts":""#.utf8, at: 0)
            line.bytes += #"","level":""#.utf8
            line.bytes += StderrLogHandler.name(level).utf8
            line.bytes += #"","msg":"http request","request_id":"#.utf8
            line.quoted(entry.requestID)
            line.bytes += #","method":"#.utf8
            line.quoted(entry.method)
            line.bytes += #","path":"#.utf8
            line.quoted(entry.path)
            line.bytes += #","status":"#.utf8
            line.integer(entry.status)
            line.bytes += #","duration_ms":"#.utf8
            line.milliseconds(micros: entry.micros)
            line.bytes += #","sub":"#.utf8
            line.quoted(entry.subject)
            if let name = entry.apiKeyName {
                line.bytes += #","api_key":"#.utf8
                line.quoted(name)
            }
            line.bytes.append(UInt8(ascii: "}"))
        case .text:
            // The handler's text order: the fields sorted by name.
            line.bytes.append(UInt8(ascii: " "))
            line.bytes += StderrLogHandler.name(level).utf8
            line.bytes += " http request".utf8
            if let name = entry.apiKeyName {
                line.bytes += " api_key=".utf8
                line.textValue(name)
            }
            line.bytes += " duration_ms=".utf8
            line.milliseconds(micros: entry.micros)
            line.bytes += " method=".utf8
            line.textValue(entry.method)
            line.bytes += " path=".utf8
            line.textValue(entry.path)
            line.bytes += " request_id=".utf8
            line.textValue(entry.requestID)
            line.bytes += " status=".utf8
            line.integer(entry.status)
            line.bytes += " sub=".utf8
            line.textValue(entry.subject)
        }
    }
}

extension LogLine {
    /// `n` in decimal.
    mutating func integer(_ n: Int) {
        if n < 0 {
            bytes.append(UInt8(ascii: "-"))
            integer(0 - n)
            return
        }
        var width = 1
        var rest = n
        while rest >= 10 {
            rest /= 10
            width += 1
        }
        digits(n, width)
    }

    /// Microseconds as milliseconds with three decimals: `1234` → `1.234`.
    mutating func milliseconds(micros: Int) {
        let us = max(0, micros)
        integer(us / 1000)
        bytes.append(UInt8(ascii: "."))
        digits(us % 1000, 3)
    }
}
