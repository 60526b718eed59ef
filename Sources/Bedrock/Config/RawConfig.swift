import Foundation
import JSONCodec

/// The merged, still untyped configuration: dotted key → (value, where it came from).
/// File values are parsed JSON; environment and flag values are strings. The typed
/// accessors convert and validate, naming the key and source in every error.
struct RawConfig {
    /// Top-level scalar keys.
    static let topLevelKeys: Set<String> = ["mode", "data_dir"]
    /// Section name → its keys.
    static let sections: [String: Set<String>] = [
        "server": [
            "host", "port", "public_dir", "heartbeat_interval_s", "heartbeat_timeout_s",
            "max_frame_bytes", "max_connections", "cors_origins", "rate_limit_per_s",
            "rate_limit_burst", "send_queue_max", "auth_timeout_s", "tls_cert", "tls_key", "service_threads",
            "event_library", "api_workers", "max_unauthenticated", "max_connections_per_ip", "per_ip_exempt",
            "max_topics_per_connection", "metrics_token", "drain_timeout_s",
            "max_subscriptions_per_connection", "max_connections_per_user",
        ],
        "redis": [
            "url", "prefix", "stream_maxlen", "pubsub_bridge", "replay_max", "command_timeout_ms", "min_replicas_to_ack",
            "replica_ack_timeout_ms",
        ],
        "jwt": ["secret", "previous_secret", "public_key_file", "jwks_file", "issuer", "audience", "leeway_s"],
        "log": ["level", "format", "requests"],
        "ledger": [
            "initial_balance", "commission", "risk_per_trade", "max_open_positions", "max_exposure",
            "min_reward_risk", "daily_loss_limit", "max_drawdown",
        ],
        "jobs": ["workers", "queue_max", "per_user_max", "report_ttl_s", "data_dir"],
        "engine": [
            "strategies", "history_bars", "group", "consumer", "start_from", "claim_idle_ms",
            "lease_ms", "discover_interval_ms", "clock", "trade_history",
        ],
        "arbiter": ["rule_weight", "ml_weight", "llm_weight", "threshold"],
        "llm": [
            "provider", "base_url", "model", "api_key", "timeout_s", "max_concurrency", "cache_ttl_s", "prompts_dir",
            "batch_window_s", "response_format", "temperature", "outage_quiet_s",
        ],
        "circuit": ["failure_threshold", "cooldown_s"],
        "api": ["keys"],
        "presence": ["ttl_s"],
        "notifications": [
            "webhooks", "telegram", "retry_window_s", "backoff_base_s", "backoff_max_s", "timeout_s", "concurrency",
            "claim_idle_s", "dead_maxlen",
        ],
        "market_data": ["markets", "backfill_bars", "retain_bars", "stale_after_intervals", "sample_bar_s", "lease_ms"],
        // One level deeper in the file (`"exchanges": {"binance": {"rest_url": ...}}`).
        "exchanges": ["binance.rest_url", "binance.ws_url", "bybit.rest_url", "bybit.ws_url"],
    ]

    /// Keys still accepted but replaced by another (docs/CONFIG.md says by which).
    static let deprecatedKeys: Set<String> = ["server.max_topics_per_connection"]

    /// Every known dotted key.
    static var allKeys: [String] {
        Array(topLevelKeys) + sections.flatMap { s, keys in keys.map { "\(s).\($0)" } }
    }

    /// The environment variable that overrides a dotted key: `server.port` → `BEDROCK_SERVER_PORT`.
    static func envName(for key: String) -> String {
        "BEDROCK_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// `BEDROCK_SERVER_PORT` → `server.port`, for every known key (built once).
    private static let keysByEnvName: [String: String] = Dictionary(
        uniqueKeysWithValues: allKeys.map { (envName(for: $0), $0) })

    private(set) var values: [String: (value: JSONValue, source: ConfigSource)] = [:]

    /// Merges a parsed JSON file; refuses unknown keys and non-object sections.
    mutating func merge(file object: JSONValue, path: String) throws(ConfigError) {
        let src = ConfigSource.file(path)
        guard let top = object.objectValue else {
            throw ConfigError(key: nil, message: "the file must hold a JSON object", source: src)
        }
        for (k, v) in top.members {
            if RawConfig.topLevelKeys.contains(k) {
                values[k] = (v, src)
            } else if let keys = RawConfig.sections[k] {
                guard let section = v.objectValue else {
                    throw ConfigError(key: k, message: "must be an object, got \(RawConfig.render(v))", source: src)
                }
                for (sk, sv) in RawConfig.flattened(section: k, section.members) {
                    guard keys.contains(sk) else {
                        throw ConfigError(
                            key: "\(k).\(sk)",
                            message: "unknown key (known: \(keys.sorted().joined(separator: ", ")))",
                            source: src)
                    }
                    values["\(k).\(sk)"] = (sv, src)
                }
            } else {
                let known = (RawConfig.topLevelKeys.sorted() + RawConfig.sections.keys.sorted()).joined(separator: ", ")
                throw ConfigError(key: k, message: "unknown key (known: \(known))", source: src)
            }
        }
    }

    /// A section's members as (key, value); `exchanges` nests one object per exchange, whose
    /// members become `binance.rest_url` and so on.
    private static func flattened(section: String, _ members: [(key: String, value: JSONValue)]) -> [(String, JSONValue)] {
        guard section == "exchanges" else { return members.map { ($0.key, $0.value) } }
        var out: [(String, JSONValue)] = []
        for (name, value) in members {
            guard let inner = value.objectValue else {
                out.append((name, value))  // refused below as an unknown key
                continue
            }
            for (k, v) in inner.members { out.append(("\(name).\(k)", v)) }
        }
        return out
    }

    /// Merges `BEDROCK_*` variables. A variable naming a known section with an unknown key
    /// (`BEDROCK_SERVER_PROT`) is refused; other `BEDROCK_*` names (not configuration) are ignored.
    mutating func merge(environment env: [String: String]) throws(ConfigError) {
        for (name, value) in env where name.hasPrefix("BEDROCK_") {
            if let key = RawConfig.keysByEnvName[name] {
                values[key] = (.string(value), .environment(name))
                continue
            }
            for section in RawConfig.sections.keys where name.hasPrefix("BEDROCK_\(section.uppercased())_") {
                throw ConfigError(
                    key: nil, message: "unknown configuration variable \(name)",
                    source: .environment(name))
            }
        }
    }

    /// Sets one value from a command-line flag (string form, like an environment variable).
    mutating func set(_ key: String, _ value: String, flag: String) throws(ConfigError) {
        guard RawConfig.allKeys.contains(key) else {
            throw ConfigError(key: key, message: "unknown key", source: .flag(flag))
        }
        values[key] = (.string(value), .flag(flag))
    }

    func source(of key: String) -> ConfigSource { values[key]?.source ?? .defaultValue }

    /// True when the value came as text (environment or flag), where numbers are written as
    /// strings; in a JSON file a quoted number is a type error.
    private func isText(_ key: String) -> Bool {
        switch source(of: key) {
        case .environment, .flag: return true
        case .file, .defaultValue: return false
        }
    }

    // MARK: typed accessors

    private func fail(_ key: String, _ what: String, _ v: JSONValue) -> ConfigError {
        ConfigError(key: key, message: "\(what), got \(RawConfig.render(v))", source: source(of: key))
    }

    /// A string; `allowEmpty` false refuses "".
    func string(_ key: String, default d: String, allowEmpty: Bool = false) throws(ConfigError) -> String {
        guard let (v, _) = values[key] else { return d }
        guard let s = v.stringValue, allowEmpty || !s.isEmpty else {
            throw fail(key, "must be a non-empty string", v)
        }
        return s
    }

    /// An optional string: JSON `null`, or an empty environment value, means unset.
    func optionalString(_ key: String) throws(ConfigError) -> String? {
        guard let (v, _) = values[key] else { return nil }
        if v.isNull { return nil }
        guard let s = v.stringValue else { throw fail(key, "must be a string or null", v) }
        return s.isEmpty ? nil : s
    }

    /// One of a fixed set of words.
    func choice(_ key: String, default d: String, _ options: [String]) throws(ConfigError) -> String {
        guard let (v, _) = values[key] else { return d }
        guard let s = v.stringValue, options.contains(s) else {
            throw fail(key, "must be one of \(options.joined(separator: ", "))", v)
        }
        return s
    }

    /// An integer within `range` (JSON `8080.0` counts as an integer; booleans do not).
    func int(_ key: String, default d: Int, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let (v, _) = values[key] else { return d }
        let what = "must be an integer \(range.lowerBound)-\(range.upperBound)"
        let n: Int?
        if let s = v.stringValue, isText(key) {
            n = Int(s.trimmingCharacters(in: .whitespaces))
        } else if let num = RawConfig.number(v), num.rounded() == num, abs(num) < 1e15 {
            n = Int(num)
        } else {
            n = nil
        }
        guard let n, range.contains(n) else { throw fail(key, what, v) }
        return n
    }

    /// A number (integer or decimal) within `range`.
    func double(_ key: String, default d: Double, _ range: ClosedRange<Double>) throws(ConfigError) -> Double {
        guard let (v, _) = values[key] else { return d }
        let what = "must be a number \(RawConfig.fmt(range.lowerBound))-\(RawConfig.fmt(range.upperBound))"
        let n: Double?
        if let s = v.stringValue {
            n = isText(key) ? Double(s.trimmingCharacters(in: .whitespaces)) : nil
        } else {
            n = RawConfig.number(v)
        }
        guard let n, n.isFinite, range.contains(n) else { throw fail(key, what, v) }
        return n
    }

    /// A list of strings: a JSON array of strings, or a comma-separated string (env).
    func stringList(_ key: String) throws(ConfigError) -> [String] {
        guard let (v, _) = values[key] else { return [] }
        if v.isNull { return [] }
        if let s = v.stringValue {
            return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        guard let arr = v.arrayValue else { throw fail(key, "must be an array of strings", v) }
        var out: [String] = []
        for item in arr {
            guard let s = item.stringValue, !s.isEmpty else { throw fail(key, "must be an array of strings", v) }
            out.append(s)
        }
        return out
    }

    /// A string → string map: a JSON object, or (env) either a JSON object text or
    /// `name=value,name=value`.
    func stringMap(_ key: String) throws(ConfigError) -> [String: String] {
        guard let (v0, _) = values[key] else { return [:] }
        var v = v0
        if v.isNull { return [:] }
        if let s = v.stringValue {
            let t = s.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { return [:] }
            if t.hasPrefix("{") {
                guard let o = try? JSONCodec.parse(Array(t.utf8), rejectDuplicateKeys: false) else {
                    throw fail(key, "must be a JSON object or name=value pairs", v)
                }
                v = o
            } else {
                var out: [String: String] = [:]
                for pair in t.split(separator: ",") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2 else { throw fail(key, "must be a JSON object or name=value pairs", v) }
                    out[kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].trimmingCharacters(in: .whitespaces)
                }
                return out
            }
        }
        guard let obj = v.objectValue else { throw fail(key, "must be an object of strings", v0) }
        var out: [String: String] = [:]
        for (k, item) in obj.members {
            guard let s = item.stringValue, !k.isEmpty else { throw fail(key, "must be an object of strings", v0) }
            out[k] = s
        }
        return out
    }

    // MARK: helpers

    /// A JSON number (never a boolean) as Double.
    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .int, .double: return v.doubleValue
        default: return nil
        }
    }

    /// A short rendering of a bad value for messages: strings quoted, JSON otherwise.
    static func render(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return "\"\(s)\""
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return "\(i)"
        case .double(let d): return fmt(d)
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    static func fmt(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}
