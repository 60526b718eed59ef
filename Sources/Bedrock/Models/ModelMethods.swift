import JSONCodec
import RedisClient
import TradingCore

/// The registry's API methods (SPEC §11), in the one method table (REST and socket alike):
///
/// | method | route | role | params | answer |
/// |---|---|---|---|---|
/// | `models.list` | `GET /v1/models` | VIEWER | `limit` 1..1000 (default 100), `offset` ≥ 0 (default 0) | `{"models":[version...newest first, that page],"total","limit","offset","traffic":{"name@version":pct},"arbiter":{...}}` |
/// | `models.import` | `POST /v1/models/import` | ADMIN | `name`, `model` (XGBoost JSON object or its text) | the new version |
/// | `models.deploy` | `POST /v1/models/{name}/{version}/deploy` | ADMIN | `traffic_percentage` 0..100 | the version + `traffic`, `retired`, `note` |
/// | `models.predict` | `POST /v1/models/{name}/predict` | VIEWER | `features` {name: value} or `signal_id`; `version`? | `{"ml_confidence_score","ml_model"}` |
/// | `models.performance` | `GET /v1/models/{name}/{version}/performance` | VIEWER | – | `{"model","count","wins","win_rate","auc"}` |
///
/// Bad input (bad name, a model that does not parse or does not fit, unknown feature names, a
/// share outside 0..100) is BAD_REQUEST saying why, and changes nothing; an unknown model or
/// version is NOT_FOUND.
public enum ModelMethods {
    /// Registers the five methods in `table`, on `pool` connections.
    public static func register(in table: MethodTable, registry: ModelRegistry, pool: RedisPool) {
        func add(_ method: Method, _ body: @escaping @Sendable (MethodCall, LedgerParams, RedisConnection) throws -> JSONValue) {
            table.register(.pooled(method, pool: pool, label: method.rawValue, body))
        }
        add(.modelsList) { _, p, c in
            let (limit, offset) = try listPage(p)
            return try registry.list(limit: limit, offset: offset, on: c)
        }
        add(.modelsImport) { _, p, c in try importModel(p, registry: registry, on: c) }
        add(.modelsDeploy) { _, p, c in
            let (name, version) = try reference(p)
            guard let raw = p.params["traffic_percentage"], !raw.isNull else {
                throw APIError(.badRequest, "traffic_percentage is required (an integer 0-100)")
            }
            guard let d = raw.doubleValue ?? raw.stringValue.flatMap(Double.init), d.rounded() == d, (0...100).contains(d) else {
                throw APIError(.badRequest, "traffic_percentage must be an integer 0-100")
            }
            let done = try registry.deploy(name: name, version: version, percentage: Int(d), on: c)
            guard var answer = done.version.objectValue else { throw APIError(.internal, "models.deploy: no description") }
            answer["traffic"] = ModelRegistry.json(done.change.traffic)
            answer["retired"] = .array(done.change.retired.map(JSONValue.string))
            answer["note"] = .optional(done.change.note)
            return .object(answer)
        }
        add(.modelsPredict) { _, p, c in try predict(p, registry: registry, on: c) }
        add(.modelsPerformance) { _, p, c in
            let (name, version) = try reference(p)
            return try registry.performance(name: name, version: version, on: c)
        }
    }

    /// `limit` (1...1000, default 100) and `offset` (≥ 0, default 0) of `models.list`;
    /// BAD_REQUEST naming the field otherwise.
    static func listPage(_ p: LedgerParams) throws -> (limit: Int, offset: Int) {
        let most = ModelRegistry.maxListLimit
        let limit = try p.int("limit") ?? Int64(ModelRegistry.defaultListLimit)
        guard (1...Int64(most)).contains(limit) else { throw APIError(.badRequest, "limit must be an integer from 1 to \(most)") }
        let offset = try p.int("offset") ?? 0
        guard (0...1_000_000_000).contains(offset) else {
            throw APIError(.badRequest, "offset must be an integer from 0 to 1000000000")
        }
        return (Int(limit), Int(offset))
    }

    /// A valid model name from parameter `name`.
    static func name(_ p: LedgerParams) throws -> String {
        guard let name = try p.string("name") else { throw APIError(.badRequest, "name is required") }
        guard ModelRegistry.isValidName(name) else {
            throw APIError(.badRequest, "bad model name \"\(name)\": \(ModelRegistry.nameRule)")
        }
        return name
    }

    /// `name` and `version` (a positive integer; NOT_FOUND otherwise, as a path that names nothing).
    static func reference(_ p: LedgerParams) throws -> (String, Int64) {
        let name = try name(p)
        guard let raw = p.params["version"], !raw.isNull else { throw APIError(.badRequest, "version is required") }
        guard let v = raw.intValue ?? raw.stringValue.flatMap({ Int64($0) }), v > 0 else {
            throw APIError(.notFound, "no model \(name)@\(raw.stringValue ?? JSONCodec.encodeString(raw))")
        }
        return (name, v)
    }

    static func importModel(_ p: LedgerParams, registry: ModelRegistry, on c: RedisConnection) throws -> JSONValue {
        let name = try name(p)
        guard let raw = p.params["model"], !raw.isNull else { throw APIError(.badRequest, "model is required (XGBoost JSON)") }
        var json = raw
        if let text = raw.stringValue {
            guard let parsed = try? JSONCodec.parse(text) else { throw APIError(.badRequest, "model refused: not JSON text") }
            json = parsed
        }
        guard json.objectValue != nil else { throw APIError(.badRequest, "model refused: must be an XGBoost JSON model object") }
        let ensemble: TreeEnsemble
        do {
            ensemble = try TreeEnsemble(json: json)
        } catch {
            throw APIError(.badRequest, "model refused: \(error.message)")
        }
        return try registry.add(
            name: name, source: .imported, ensemble: ensemble, dataset: nil, hyperparameters: nil, metrics: nil,
            strategy: nil, params: nil, on: c, modelText: JSONCodec.encodeString(json, doubles: .shortest))
    }

    /// `models.predict`: the features from `features` or from signal `signal_id`, scored by
    /// `version`, else the newest deployed version of the name, else its newest.
    static func predict(_ p: LedgerParams, registry: ModelRegistry, on c: RedisConnection) throws -> JSONValue {
        let name = try name(p)
        let given = p.params["features"].flatMap { $0.isNull ? nil : $0 }
        let signal = p.params["signal_id"].flatMap { $0.isNull ? nil : $0 }
        guard (given == nil) != (signal == nil) else {
            throw APIError(.badRequest, "give either features ({name: value}) or signal_id")
        }
        var features: [Double]
        if let given {
            guard let members = given.objectValue?.members else {
                throw APIError(.badRequest, "features must be an object {name: number|null}")
            }
            features = Array(repeating: .nan, count: MLFeatures.count)
            for (key, value) in members {
                guard let i = MLFeatures.index(of: key) else {
                    throw APIError(.badRequest, "unknown feature \(key) (known: \(MLFeatures.names.joined(separator: ", ")))")
                }
                if value.isNull { continue }
                guard let d = value.doubleValue, d.isFinite else {
                    throw APIError(.badRequest, "feature \(key) must be a number or null")
                }
                features[i] = d
            }
        } else {
            let id = try p.id("signal_id", what: "signal")
            let stored = try c.command(["HMGET", "\(registry.prefix)signal:\(id)", "id", "features"]).checked().array ?? []
            guard stored.first?.string != nil else { throw APIError(.notFound, "no signal with id \(id)") }
            guard let text = stored.last?.string, let array = (try? JSONCodec.parse(text))?.arrayValue,
                array.count == MLFeatures.count
            else { throw APIError(.badRequest, "signal \(id) has no feature vector") }
            features = array.map { $0.doubleValue ?? .nan }
        }
        let version = try chosenVersion(name, p, registry: registry, on: c)
        let reference = "\(name)@\(version)"
        let ensemble: TreeEnsemble
        do {
            ensemble = try registry.load(reference: reference, on: c)
        } catch let error as ModelFormatError {
            throw APIError(.internal, "model \(reference) does not load: \(error.message)")
        }
        let probability = ensemble.probability(features)
        return .object([
            ("ml_confidence_score", probability.isFinite ? .number(probability * 100) : .null),
            ("ml_model", .string(reference)),
        ])
    }

    /// `version` when given (NOT_FOUND when it does not exist), else the newest deployed version
    /// of `name`, else its newest; NOT_FOUND for a name with no versions.
    static func chosenVersion(_ name: String, _ p: LedgerParams, registry: ModelRegistry, on c: RedisConnection) throws -> Int64 {
        let versions = try registry.versions(of: name, on: c)
        guard let newest = versions.last else { throw APIError(.notFound, "no model \(name)") }
        if let raw = p.params["version"], !raw.isNull {
            guard let v = raw.intValue ?? raw.stringValue.flatMap({ Int64($0) }), versions.contains(v) else {
                throw APIError(.notFound, "no model \(name)@\(raw.stringValue ?? JSONCodec.encodeString(raw))")
            }
            return v
        }
        let deployed = try registry.traffic(on: c).shares.keys.compactMap { ModelRegistry.parse(reference: $0) }
            .filter { $0.name == name }.map(\.version)
        return deployed.max() ?? newest
    }
}
