import JSONCodec
import TradingCore

/// The live engine's configuration as the API shows and stores it (SPEC §15): the strategies
/// with their parameters and markets, the arbiter, running or paused, and who made this version.
///
/// Version 0 is the gateway's file configuration (`engine.strategies`, `arbiter.*`); every change
/// (`engine.configure`, `engine.deploy`, `engine.pause`/`resume`) stores version + 1 in Redis,
/// where every gateway's engine picks it up (`LiveEngine`). Values only: parsing and rendering,
/// no Redis.
public struct EngineConfiguration: Sendable, Equatable {
    /// Whether the engine makes new signals and entries.
    public enum Status: String, Sendable, Equatable {
        /// New signals and entries are made.
        case running
        /// Bars are still ingested and positions marked and exited; no new signal or entry.
        case paused
    }

    /// 0 for the file configuration, then 1, 2, … per stored change.
    public var version: Int
    /// Running or paused.
    public var status: Status
    /// The strategies, in the order they decide on each bar.
    public var strategies: [LiveStrategy]
    /// Weights and threshold of the arbiter.
    public var arbiter: ArbiterConfig
    /// The JWT subject of the change (`config` for version 0).
    public var updatedBy: String
    /// RFC 3339 time of the change (nil for version 0).
    public var updatedAt: String?
    /// Where the change came from, e.g. `{"task_id","rank"}` for a deployed optimisation result.
    public var source: JSONObject?

    /// A configuration; version 0 is the file's.
    public init(
        version: Int = 0, status: Status = .running, strategies: [LiveStrategy], arbiter: ArbiterConfig,
        updatedBy: String = "config", updatedAt: String? = nil, source: JSONObject? = nil
    ) {
        self.version = version; self.status = status; self.strategies = strategies; self.arbiter = arbiter
        self.updatedBy = updatedBy; self.updatedAt = updatedAt; self.source = source
    }

    /// True while paused.
    public var isPaused: Bool { status == .paused }

    /// The API and stored form.
    public var json: JSONValue {
        .object([
            ("version", .int(Int64(version))), ("status", .string(status.rawValue)),
            ("strategies", .array(strategies.map(\.resolvedJSON))),
            (
                "arbiter",
                .object([
                    ("rule_weight", .number(arbiter.ruleWeight)), ("ml_weight", .number(arbiter.mlWeight)),
                    ("llm_weight", .number(arbiter.llmWeight)), ("threshold", .number(arbiter.threshold)),
                ])
            ),
            ("updated_by", .string(updatedBy)), ("updated_at", .optional(updatedAt)),
            ("source", source.map(JSONValue.object) ?? .null),
        ])
    }

    /// Reads a stored configuration (what `json` wrote); nil when it is not one or names a
    /// strategy or parameter this build does not have (`StoredHeader` still reads its version).
    public static func stored(_ text: String) -> EngineConfiguration? {
        guard let header = StoredHeader(text), let o = header.object,
            let strategies = try? LiveStrategy.parseList(o["strategies"] ?? .null, fromText: false),
            let arbiter = header.arbiter
        else { return nil }
        return EngineConfiguration(
            version: header.version, status: header.status, strategies: strategies, arbiter: arbiter,
            updatedBy: o["updated_by"]?.stringValue ?? "", updatedAt: o["updated_at"]?.stringValue,
            source: o["source"]?.objectValue)
    }

    /// Fields of `engine.configure`'s body that only echo what `engine.get` answered (a client may
    /// send back what it read); they are ignored.
    static let readOnlyFields: Set<String> = ["updated_by", "updated_at", "source"]

    /// This configuration changed by `update` (`engine.configure`'s body: `strategies`, `arbiter`
    /// and/or `status`, each replacing what it names; an omitted part is kept; `version` is the
    /// caller's business, see `EngineConfigMethods`). Every problem is an `EngineConfigError`
    /// naming the field, e.g. `arbiter.threshold` or `strategies` (the message names the
    /// strategy and parameter).
    public func applying(_ update: JSONObject) throws(EngineConfigError) -> EngineConfiguration {
        let known: Set<String> = ["strategies", "arbiter", "status", "version"]
        for key in update.keys where !known.contains(key) && !EngineConfiguration.readOnlyFields.contains(key) {
            throw EngineConfigError(
                field: key, message: "is not a configuration field (known: strategies, arbiter, status, version)")
        }
        guard update["strategies"] != nil || update["arbiter"] != nil || update["status"] != nil else {
            throw EngineConfigError(field: "strategies", message: "give strategies, arbiter and/or status")
        }
        var next = self
        if let s = update["strategies"] {
            guard s.arrayValue != nil else {
                throw EngineConfigError(
                    field: "strategies", message: "must be an array of {\"name\",\"params\",\"markets\"} objects or names")
            }
            do {
                next.strategies = try LiveStrategy.parseList(s, fromText: false)
            } catch {
                throw EngineConfigError(field: "strategies", message: error.message)
            }
            guard !next.strategies.isEmpty else {
                throw EngineConfigError(
                    field: "strategies",
                    message:
                        "must name at least one strategy; to stop new entries pause the engine (POST /v1/engine/pause), which keeps managing open positions"
                )
            }
        }
        if let a = update["arbiter"] { next.arbiter = try EngineConfiguration.parseArbiter(a, over: arbiter) }
        if let st = update["status"] {
            guard let parsed = st.stringValue.flatMap(Status.init(rawValue:)) else {
                throw EngineConfigError(field: "status", message: "must be running or paused")
            }
            next.status = parsed
        }
        return next
    }

    /// The arbiter of `value` (`{"rule_weight","ml_weight","llm_weight","threshold"}`, each
    /// optional), starting from `base`; ranges as the file's `arbiter.*`.
    static func parseArbiter(_ value: JSONValue?, over base: ArbiterConfig) throws(EngineConfigError) -> ArbiterConfig {
        guard let o = value?.objectValue else {
            throw EngineConfigError(
                field: "arbiter", message: "must be an object {\"rule_weight\",\"ml_weight\",\"llm_weight\",\"threshold\"}")
        }
        var a = base
        for (key, v) in o.members {
            guard let d = v.doubleValue, d.isFinite else {
                throw EngineConfigError(field: "arbiter.\(key)", message: "must be a number")
            }
            switch key {
            case "rule_weight":
                guard d > 0 && d <= 1 else {
                    throw EngineConfigError(field: "arbiter.rule_weight", message: "must be in (0, 1], got \(d)")
                }
                a.ruleWeight = d
            case "ml_weight", "llm_weight":
                guard (0...1).contains(d) else {
                    throw EngineConfigError(field: "arbiter.\(key)", message: "must be in [0, 1], got \(d)")
                }
                if key == "ml_weight" { a.mlWeight = d } else { a.llmWeight = d }
            case "threshold":
                guard (0...100).contains(d) else {
                    throw EngineConfigError(field: "arbiter.threshold", message: "must be in [0, 100], got \(d)")
                }
                a.threshold = d
            default:
                throw EngineConfigError(
                    field: "arbiter.\(key)",
                    message: "is not an arbiter field (known: rule_weight, ml_weight, llm_weight, threshold)")
            }
        }
        return a
    }
}

/// What can be read of a stored configuration even when its strategies cannot (a later build
/// renamed a parameter, a hand edit): its version, status and arbiter, so that pause and resume
/// keep working and the engine can fail safe.
public struct StoredHeader: Sendable {
    /// The stored version.
    public var version: Int
    /// The stored status (paused when unreadable: the safe side).
    public var status: EngineConfiguration.Status
    /// The stored arbiter, nil when unreadable.
    public var arbiter: ArbiterConfig?
    /// The whole stored object.
    public var object: JSONObject?

    /// The header of `text`; nil when `text` is not a JSON object with a version.
    public init?(_ text: String) {
        guard let o = (try? JSONCodec.parse(text))?.objectValue, let v = o["version"]?.intValue else { return nil }
        version = Int(v)
        status = o["status"]?.stringValue.flatMap(EngineConfiguration.Status.init(rawValue:)) ?? .paused
        arbiter = try? EngineConfiguration.parseArbiter(o["arbiter"], over: .default)
        object = o
    }
}

extension LiveStrategy {
    /// `jsonValue` with every parameter shown (defaults filled in), as the engine runs it.
    var resolvedJSON: JSONValue {
        guard let values = try? StrategyRegistry.descriptor(named: name).resolve(parameters).values else { return jsonValue }
        var shown = self
        shown.parameters = values
        return shown.jsonValue
    }
}

/// Why an engine configuration was refused: the field and what is wrong with it.
public struct EngineConfigError: Error, Equatable, CustomStringConvertible {
    /// The field, e.g. `arbiter.threshold`.
    public var field: String
    /// What is wrong.
    public var message: String
    /// `<field> <message>`.
    public var description: String { "\(field) \(message)" }
}
