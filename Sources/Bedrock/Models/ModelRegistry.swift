import Foundation
import JSONCodec
import RedisClient
import Synchronization
import TradingCore

/// The model registry in Redis (SPEC §11; layout in docs/REDIS_LAYOUT.md):
/// - `<prefix>models` — set of model names; `<prefix>model:{name}:seq` — last version number;
/// - `<prefix>model:{name}:{version}` — hash: `meta` (the version's description, JSON), `model`
///   (XGBoost JSON text), `status` (candidate | deployed | retired), `traffic_percentage`;
/// - `<prefix>models:traffic` — hash `name@version` → share of the deployed versions (sum 100);
/// - `<prefix>model:{name}:{version}:perf` (count, wins) and `...:outcomes` (`score|win`, capped),
///   written by `close_position.lua` when a position opened from a scored signal closes.
///
/// Every change runs as one Lua script with its event on topic `models` (`model_add.lua`:
/// `model.trained`; `model_deploy.lua`: `model.deployed`). The deployment policy itself is the
/// pure `ModelTraffic`.
///
/// Threading: holds no connection (each call takes the caller's); the parsed-model cache is a
/// `Mutex`, so one registry serves every worker thread.
public final class ModelRegistry: Sendable {
    /// The ledger whose scripts, prefix and stream cap are used.
    public let ledger: Ledger
    /// The file's arbiter weights (`models.list` echoes the engine configuration's in effect,
    /// these while no version is stored).
    public let arbiter: ArbiterConfig
    /// Parsed models by `name@version` (versions never change), least recently used evicted first.
    private let parsed: Mutex<ParsedModels>

    /// A registry on `ledger`'s Redis layout, keeping at most `cacheCount` parsed versions whose
    /// model texts total at most `cacheBytes` (the newest one is kept whatever its size).
    public init(
        ledger: Ledger, arbiter: ArbiterConfig = .default, cacheCount: Int = 32, cacheBytes: Int = 256 << 20
    ) {
        self.ledger = ledger; self.arbiter = arbiter
        parsed = Mutex(ParsedModels(countLimit: cacheCount, byteLimit: cacheBytes))
    }

    var prefix: String { ledger.settings.prefix }

    /// Where a model came from.
    public enum Source: String, Sendable {
        /// Trained by Bedrock (`bedrock train`, `training.submit`).
        case trained
        /// Imported (`models.import`).
        case imported
    }

    /// The rule for model names, in words.
    public static let nameRule = "1-64 characters of A-Z a-z 0-9 _ . -"

    /// True when `name` follows `nameRule`.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2E
                || b == 0x2D
        }
    }

    /// `name@version` split, or nil when it is not one (bad name, version not a positive integer
    /// in decimal digits). The one rule for references: the registry, live scoring and jobs.
    public static func parse(reference: String) -> (name: String, version: Int64)? {
        guard let at = reference.lastIndex(of: "@") else { return nil }
        let name = String(reference[..<at])
        let digits = reference[reference.index(after: at)...]
        guard isValidName(name), !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let version = Int64(digits), version > 0
        else { return nil }
        return (name, version)
    }

    func key(_ name: String, _ version: Int64) -> String { "\(prefix)model:\(name):\(version)" }

    // MARK: writes

    /// Stores `ensemble` as a new version of `name` (a candidate with no traffic) with
    /// `model.trained`, and returns the version's description (`models.list` item).
    /// Throws `APIError` BAD_REQUEST for a bad name.
    public func add(
        name: String, source: Source, ensemble: TreeEnsemble, dataset: JSONValue?,
        hyperparameters: GBTHyperparameters?, metrics: WalkForwardReport?, strategy: String?,
        params: [String: Double]?, on c: RedisConnection, modelText: String? = nil
    ) throws -> JSONValue {
        guard ModelRegistry.isValidName(name) else {
            throw APIError(.badRequest, "bad model name \"\(name)\": \(ModelRegistry.nameRule)")
        }
        func text(_ v: JSONValue?) -> String { JSONCodec.encodeString(v ?? .null, doubles: .shortest) }
        let features = ensemble.featureNames ?? MLFeatures.names
        let paramsJSON = params.map { p in JSONValue.object(p.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) }) }
        let parts: [JSONValue] = [
            ["source", .string(text(.string(source.rawValue)))], ["dataset", .string(text(dataset))],
            ["features", .string(text(.array(features.map(JSONValue.string))))],
            ["hyperparameters", .string(text(hyperparameters?.jsonValue))], ["metrics", .string(text(metrics?.jsonValue))],
            ["strategy", .string(text(strategy.map(JSONValue.string)))], ["params", .string(text(paramsJSON))],
            ["trees", .string(String(ensemble.treeCount))],
        ]
        let model = modelText ?? JSONCodec.encodeString(ensemble.jsonValue(), doubles: .shortest)
        let write = try ledger.run(
            "model_add", ["name": .string(name), "model": .string(model), "parts": .array(parts)], on: c)
        guard write.status == "created", let version = write.reply["version"]?.intValue,
            var meta = write.reply["meta"]?.objectValue
        else { throw LedgerError.reply("model_add answered \(write.status): \(write.message ?? "")") }
        meta["status"] = .string("candidate")
        meta["traffic_percentage"] = .int(0)
        return .object(meta)
    }

    /// The parsed model of `name@version` (cached: a version never changes). Throws
    /// `APIError` NOT_FOUND for an unknown version, BAD_REQUEST for a bad reference, and
    /// `ModelFormatError` when the stored model does not parse.
    public func load(reference: String, on c: RedisConnection) throws -> TreeEnsemble {
        if let hit = parsed.withLock({ $0.get(reference) }) { return hit }
        guard let (name, version) = ModelRegistry.parse(reference: reference) else {
            throw APIError(.badRequest, "bad model reference \"\(reference)\" (name@version)")
        }
        guard let text = try c.command(["HGET", key(name, version), "model"]).checked().string else {
            throw APIError(.notFound, "no model \(reference)")
        }
        let ensemble = try TreeEnsemble(jsonText: text)
        parsed.withLock { $0.put(reference, ensemble, bytes: text.utf8.count) }
        return ensemble
    }

    /// The result of `deploy`.
    public struct Deployment: Sendable {
        /// The version's description after the change.
        public var version: JSONValue
        /// The traffic change.
        public var change: ModelTraffic.Change
    }

    /// Gives `name@version` `percentage` (0...100) of the live traffic by `ModelTraffic`, with
    /// `model.deployed`; retried when another gateway changed the traffic meanwhile. 0 for a
    /// version with no traffic writes nothing and answers its unchanged description.
    public func deploy(name: String, version: Int64, percentage: Int, on c: RedisConnection) throws -> Deployment {
        let reference = "\(name)@\(version)"
        for _ in 0..<8 {
            let current = try traffic(on: c)
            let change = current.deploying(reference, percentage: percentage)
            if change.unchanged {
                guard let described = try self.version(name, version, on: c) else {
                    throw APIError(.notFound, "no model \(reference)")
                }
                return Deployment(version: described, change: change)
            }
            func split(_ ref: String) -> (String, String) {
                let p = ModelRegistry.parse(reference: ref)
                return (p?.name ?? ref, String(p?.version ?? 0))
            }
            let entries: [JSONValue] = change.traffic.ordered.map { e in
                let (n, v) = split(e.reference)
                return ["ref": .string(e.reference), "name": .string(n), "version": .string(v), "share": .int(Int64(e.share))]
            }
            let retired: [JSONValue] = change.retired.map { ref in
                let (n, v) = split(ref)
                return ["ref": .string(ref), "name": .string(n), "version": .string(v)]
            }
            let write = try ledger.run(
                "model_deploy",
                [
                    "name": .string(name), "version": .int(version), "reference": .string(reference),
                    "granted": .int(Int64(change.granted)), "expected": ModelRegistry.json(current),
                    "entries": .array(entries), "retired": .array(retired),
                    "traffic_json": .string(JSONCodec.encodeString(ModelRegistry.json(change.traffic))),
                    "retired_json": .string(JSONCodec.encodeString(.array(change.retired.map(JSONValue.string)))),
                    "note": .optional(change.note),
                ], on: c)
            switch write.status {
            case "deployed":
                guard let described = try self.version(name, version, on: c) else {
                    throw APIError(.notFound, "no model \(reference)")
                }
                return Deployment(version: described, change: change)
            case "not_found": throw APIError(.notFound, "no model \(reference)")
            case "conflict": continue
            default: throw LedgerError.reply("model_deploy answered \(write.status)")
            }
        }
        throw APIError(.conflict, "the traffic shares kept changing; try again")
    }

    // MARK: reads

    /// The deployed versions' shares (`<prefix>models:traffic`).
    public func traffic(on c: RedisConnection) throws -> ModelTraffic {
        ModelTraffic(shares: try c.command(["HGETALL", prefix + "models:traffic"]).checked().hash.compactMapValues { Int($0) })
    }

    /// `{"name@version": share}`.
    static func json(_ traffic: ModelTraffic) -> JSONValue {
        .object(traffic.ordered.map { ($0.reference, JSONValue.int(Int64($0.share))) })
    }

    /// One version's description (`meta` with the current `status` and `traffic_percentage`), nil when absent.
    public func version(_ name: String, _ version: Int64, on c: RedisConnection) throws -> JSONValue? {
        let reply = try c.command(["HMGET", key(name, version), "meta", "status", "traffic_percentage"]).checked()
        return ModelRegistry.describe(reply.array?.map(\.string) ?? [])
    }

    /// `meta` + `status` + `traffic_percentage` (HMGET replies) as one description.
    static func describe(_ fields: [String?]) -> JSONValue? {
        guard fields.count == 3, let text = fields[0], var meta = (try? JSONCodec.parse(text))?.objectValue else { return nil }
        meta["status"] = .string(fields[1] ?? "candidate")
        meta["traffic_percentage"] = .int(Int64(fields[2] ?? "0") ?? 0)
        return .object(meta)
    }

    /// The version numbers of `name` (1...seq), empty for an unknown name.
    public func versions(of name: String, on c: RedisConnection) throws -> [Int64] {
        let seq = Int64(try c.command(["GET", "\(prefix)model:\(name):seq"]).checked().string ?? "0") ?? 0
        return seq > 0 ? Array(1...seq) : []
    }

    /// Versions `models.list` answers when `limit` is not given.
    public static let defaultListLimit = 100
    /// The largest `limit` `models.list` takes.
    public static let maxListLimit = 1000

    /// `models.list`: the versions newest first (`limit` of them from `offset`, `total` over all),
    /// the traffic and the arbiter weights: `{"models","total","limit","offset","traffic","arbiter"}`.
    /// `limit` 1...`maxListLimit` and `offset` ≥ 0 are checked by the caller.
    public func list(limit: Int = defaultListLimit, offset: Int = 0, on c: RedisConnection) throws -> JSONValue {
        let names = (try c.command(["SMEMBERS", prefix + "models"]).checked().array ?? []).compactMap(\.string).sorted()
        let seqs = names.isEmpty ? [] : try c.pipeline(names.map { ["GET", "\(prefix)model:\($0):seq"] })
        var refs: [(String, Int64)] = []
        for (name, reply) in zip(names, seqs) {
            let seq = Int64(try reply.checked().string ?? "0") ?? 0
            if seq > 0 { for v in 1...seq { refs.append((name, v)) } }
        }
        let replies =
            refs.isEmpty ? [] : try c.pipeline(refs.map { ["HMGET", key($0.0, $0.1), "meta", "status", "traffic_percentage"] })
        var models: [JSONValue] = []
        for reply in replies {
            if let d = ModelRegistry.describe(try reply.checked().array?.map(\.string) ?? []) { models.append(d) }
        }
        models.sort { a, b in
            let ta = a["created_at"]?.stringValue ?? "", tb = b["created_at"]?.stringValue ?? ""
            if ta != tb { return ta > tb }
            if a["name"]?.stringValue != b["name"]?.stringValue {
                return (a["name"]?.stringValue ?? "") < (b["name"]?.stringValue ?? "")
            }
            return (a["version"]?.intValue ?? 0) > (b["version"]?.intValue ?? 0)
        }
        let page = offset < models.count ? Array(models[offset..<min(models.count, offset + limit)]) : []
        let arbiter = try EngineConfigStore.arbiter(prefix: prefix, fallback: arbiter, on: c)
        return .object([
            ("models", .array(page)), ("total", .int(Int64(models.count))), ("limit", .int(Int64(limit))),
            ("offset", .int(Int64(offset))), ("traffic", ModelRegistry.json(try traffic(on: c))),
            (
                "arbiter",
                .object([
                    ("rule_weight", .number(arbiter.ruleWeight)), ("ml_weight", .number(arbiter.mlWeight)),
                    ("llm_weight", .number(arbiter.llmWeight)), ("threshold", .number(arbiter.threshold)),
                ])
            ),
        ])
    }

    /// `models.performance`: the live outcomes of the signals `name@version` scored:
    /// `{"model","count","wins","win_rate" (percent, null with none),"auc" (null under 20 outcomes
    /// or with one class)}` (AUC over the newest 10000 outcomes kept).
    public func performance(name: String, version: Int64, on c: RedisConnection) throws -> JSONValue {
        let k = key(name, version)
        let replies = try c.pipeline([["EXISTS", k], ["HGETALL", k + ":perf"], ["LRANGE", k + ":outcomes", "0", "-1"]])
        guard try replies[0].checked().integer == 1 else { throw APIError(.notFound, "no model \(name)@\(version)") }
        let perf = try replies[1].checked().hash
        let count = Int64(perf["count"] ?? "0") ?? 0, wins = Int64(perf["wins"] ?? "0") ?? 0
        var auc: JSONValue = .null
        let outcomes = (try replies[2].checked().array ?? []).compactMap(\.string)
        if outcomes.count >= 20 {
            var labels: [UInt8] = [], scores: [Double] = []
            for o in outcomes {
                let parts = o.split(separator: "|")
                guard parts.count == 2, let s = Double(parts[0]) else { continue }
                scores.append(s / 100)
                labels.append(parts[1] == "1" ? 1 : 0)
            }
            auc = .number(BinaryMetrics.evaluate(labels: labels, probabilities: scores).auc)
        }
        return .object([
            ("model", .string("\(name)@\(version)")), ("name", .string(name)), ("version", .int(version)),
            ("count", .int(count)), ("wins", .int(wins)),
            ("win_rate", count > 0 ? .number(Double(wins) * 100 / Double(count)) : .null), ("auc", auc),
        ])
    }
}
