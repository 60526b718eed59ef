import Foundation
import JSONCodec
import TradingCore

/// Validating `backtest.submit` / `optimize.submit` parameters (SPEC §4). Every refusal is a
/// `BAD_REQUEST` naming the field and the valid values.
///
/// | field | applies to | valid values | default |
/// |---|---|---|---|
/// | `strategy` | both | a registered strategy (`oops`, `pullback`, `sma_cross`) | required |
/// | `params` | both | object name → number inside the strategy's ranges | strategy defaults |
/// | `dataset` | both | a file name in the datasets directory (no `/`, `..`, leading `.`) | – |
/// | `market`, `interval` | both | a market (`MarketParameter` rule, any spelling, kept as its canonical id) and interval with bars in Redis (required without `dataset`) | – |
/// | `start_date`, `end_date` | both | `YYYY-MM-DD` (end: whole day), RFC 3339, or epoch ms | all bars |
/// | `initial_balance` | both | number > 0 | 10000 |
/// | `commission`, `slippage` | both | rate in [0, 1) | 0.001, 0 |
/// | `risk_guard`, `arbiter` | both | booleans: apply the live risk guard / arbiter (`arbiter.*` weights and threshold) | true, true |
/// | `grid` | optimize | object name → array of numbers, or `"lo:hi[:step]"`; names are the strategy's parameters or a `SearchableSetting` (`arbiter.rule_weight`, `arbiter.ml_weight`, `arbiter.llm_weight`, `arbiter.threshold`, `risk_per_trade`) | required |
/// | `method` | optimize | `grid`, `random` or `bayesian` (TPE, `TPESearch`) | `grid` |
/// | `trials`, `seed` | optimize (random, bayesian) | 1-10000; any whole number ≥ 0 | 50, 42 |
/// | `metric` | optimize | a report metric (`BacktestReport.metricNames`) | `sharpe_ratio` |
/// | `walk_forward` | optimize | folds 1-20 (`true` = 4; `false`/0 = none) | none |
/// | `ml_model`, `compare` | both | see `modelFields` (JobRequest+Model.swift) | none |
extension JobRequest {
    /// Most parameter sets one optimisation job may evaluate.
    public static let maxCandidates = 10_000

    /// Parses and validates `params`. `datasets` is the datasets directory; `arbiter` the
    /// gateway's (`arbiter.*`), which jobs apply as live; `hasBars(market,
    /// interval)` answers whether Redis holds a klines stream for them, and `markets()` lists the
    /// ones it holds (for the error message).
    static func parse(
        _ kind: JobKind, _ raw: JSONObject, datasets: String, arbiter: ArbiterConfig = .default,
        hasBars: (String, String) throws -> Bool, markets: () throws -> [String]
    ) throws -> JobRequest {
        let p = JobParams(params: raw)
        let known = StrategyRegistry.names.joined(separator: ", ")
        guard let name = try p.string("strategy") else {
            throw APIError(.badRequest, "strategy is required; valid: \(known)")
        }
        guard let descriptor = try? StrategyRegistry.descriptor(named: name) else {
            throw APIError(.badRequest, "strategy '\(name)' is unknown; valid: \(known)")
        }
        let fixed = try p.parameterObject("params")
        var config = BacktestConfig()
        config.initialBalance = try p.number("initial_balance", default: 10_000, { $0 > 0 && $0 <= 1e12 }, "a positive number")
        config.commissionRate = try p.number(
            "commission", default: 0.001, { (0..<1).contains($0) }, "a rate in [0, 1), e.g. 0.001 for 0.1 %")
        config.slippageRate = try p.number("slippage", default: 0, { (0..<1).contains($0) }, "a rate in [0, 1), e.g. 0.0005")
        if try !p.bool("risk_guard", default: true) { config.risk = nil }
        config.arbiter = try p.bool("arbiter", default: true) ? arbiter : nil
        let start = try p.date("start_date", endOfDay: false)
        let end = try p.date("end_date", endOfDay: true)
        if let start, let end, end < start {
            throw APIError(.badRequest, "end_date must not be before start_date")
        }
        let data = try dataSource(p, start: start, end: end, datasets: datasets, hasBars: hasBars, markets: markets)
        if case let .market(market, _, _, _) = data { config.market = market }

        var summary: JSONObject = ["strategy": .string(descriptor.name)]
        summary["params"] = .object(JSONObject(fixed.sorted { $0.key < $1.key }.map { ($0.key, .plain($0.value)) }))
        switch data {
        case let .market(market, interval, _, _):
            summary["market"] = .string(market)
            summary["interval"] = .string(interval)
        case let .dataset(name, _, _, _):
            summary["dataset"] = .string(name)
        }
        if let s = p.value("start_date") { summary["start_date"] = s }
        if let e = p.value("end_date") { summary["end_date"] = e }
        let (mlModel, compare) = try modelFields(p)
        if mlModel != nil && config.arbiter == nil {
            throw APIError(
                .badRequest, "ml_model needs the arbiter (the model's score acts through it); drop \"arbiter\": false")
        }
        if let mlModel { summary["ml_model"] = .string(mlModel) }
        if let a = config.arbiter {
            summary["arbiter"] = .object([
                ("rule_weight", .number(a.ruleWeight)), ("ml_weight", .number(a.mlWeight)),
                ("llm_weight", .number(a.llmWeight)), ("threshold", .number(a.threshold)),
            ])
        }
        if compare { summary["compare"] = .array([.string(MLComparison.rulesOnly)]) }

        switch kind {
        case .backtest, .train:
            let warmup: Int
            do { warmup = try descriptor.make(fixed).warmupBars } catch {
                throw APIError(.badRequest, "params: \(error)")
            }
            var training: TrainingSpec?
            if kind == .train {
                let spec = try TrainingSpec.parse(p)
                summary["model_name"] = .string(spec.modelName)
                summary["folds"] = .int(Int64(spec.folds))
                training = spec
            }
            return JobRequest(
                kind: kind, strategy: descriptor.name, parameters: fixed, data: data, config: config,
                optimize: nil, training: training, warmup: warmup, summary: summary, mlModel: mlModel,
                compareRulesOnly: compare)
        case .optimize:
            let spec = try optimizeSpec(p, descriptor: descriptor, fixed: fixed, arbiter: config.arbiter != nil)
            summary["metric"] = .string(spec.metric)
            summary["candidates"] = .int(Int64(spec.setsPerSearch))
            switch spec.method {
            case .grid: summary["method"] = "grid"
            case let .random(trials, seed), let .bayesian(trials, seed):
                summary["method"] = .string(spec.methodName)
                summary["trials"] = .int(Int64(trials))
                summary["seed"] = .int(Int64(bitPattern: seed))
            }
            summary["grid"] = .array(spec.ranges.map { .string($0.name) })
            if let k = spec.walkForward { summary["walk_forward"] = .int(Int64(k)) }
            return JobRequest(
                kind: kind, strategy: descriptor.name, parameters: fixed, data: data, config: config,
                optimize: spec, warmup: spec.warmup, summary: summary, mlModel: mlModel, compareRulesOnly: compare)
        }
    }

    /// `dataset`, or `market` + `interval`.
    private static func dataSource(
        _ p: JobParams, start: Int64?, end: Int64?, datasets: String,
        hasBars: (String, String) throws -> Bool,
        markets: () throws -> [String]
    ) throws -> JobDataSource {
        if let name = try p.string("dataset") {
            let path = try DatasetDirectory(path: datasets).resolve(name)
            return .dataset(name: name, path: path, start: start, end: end)
        }
        guard let spelling = try p.string("market") else {
            throw APIError(.badRequest, "market (with interval) or dataset is required")
        }
        guard let interval = try p.string("interval") else {
            throw APIError(.badRequest, "interval is required with market (e.g. 1h)")
        }
        let market = try MarketParameter.market(spelling)
        _ = try MarketParameter.interval(interval)
        guard try hasBars(market, interval) else {
            let list = try markets()
            throw APIError(
                .badRequest,
                "market \(market) interval \(interval) has no bars in Redis; with bars: "
                    + (list.isEmpty ? "none (replay some with `bedrock replay`, or use dataset)" : list.joined(separator: ", ")))
        }
        return .market(market: market, interval: interval, start: start, end: end)
    }

    /// `grid`, `method`, `trials`, `seed`, `metric`, `walk_forward`. `arbiter`: whether the job
    /// applies the arbiter (an `arbiter.*` range needs it).
    private static func optimizeSpec(
        _ p: JobParams, descriptor: StrategyDescriptor,
        fixed: [String: Double], arbiter: Bool
    ) throws -> OptimizeSpec {
        let specs = descriptor.parameterSpecs
        let validNames = specs.map(\.displayText).joined(separator: "; ")
        guard let gridValue = p.value("grid") else {
            throw APIError(
                .badRequest,
                "grid is required: an object of parameter → values, e.g. {\"fast\":[5,10]}; parameters of \(descriptor.name): \(validNames)"
            )
        }
        guard let grid = gridValue.objectValue, grid.count > 0 else {
            throw APIError(
                .badRequest,
                "grid must be a non-empty object of parameter → [values] or \"lo:hi[:step]\"; parameters of \(descriptor.name): \(validNames)"
            )
        }
        var ranges: [ParameterRange] = []
        let settingNames = SearchableSetting.allCases.map(\.rawValue).joined(separator: ", ")
        for (name, raw) in grid.members {
            let setting = SearchableSetting(rawValue: name)
            let spec = specs.first(where: { $0.name == name })
            guard spec != nil || setting != nil else {
                throw APIError(
                    .badRequest,
                    "grid.\(name) is not a parameter of \(descriptor.name) nor a searchable setting; valid: \(validNames); settings: \(settingNames)"
                )
            }
            if setting == .riskPerTrade, !descriptor.entriesHaveStops {
                throw APIError(
                    .badRequest,
                    "grid.risk_per_trade cannot change a \(descriptor.name) backtest: its entries have no stop, and fixed-risk sizing (balance × risk_per_trade / R) needs one; search its parameters or the arbiter's instead"
                )
            }
            if let setting, setting.needsArbiter, !arbiter {
                throw APIError(
                    .badRequest, "grid.\(name) needs the arbiter, which \"arbiter\": false turns off; drop one of them")
            }
            guard fixed[name] == nil else {
                throw APIError(.badRequest, "grid.\(name) is also given in params; give it in one place")
            }
            var range: ParameterRange
            if let items = raw.arrayValue {
                let values = items.compactMap { $0.doubleValue ?? $0.stringValue.flatMap { Double($0) } }
                guard !values.isEmpty, values.count == items.count, values.allSatisfy(\.isFinite) else {
                    throw APIError(.badRequest, "grid.\(name) must be a non-empty array of numbers")
                }
                range = ParameterRange(name: name, values: values)
            } else if let text = raw.stringValue {
                do { range = try ParameterRange.parse("\(name)=\(text)") } catch {
                    throw APIError(.badRequest, "grid.\(name): \(error)")
                }
            } else {
                throw APIError(.badRequest, "grid.\(name) must be an array of numbers or \"lo:hi[:step]\"")
            }
            if let setting {
                if let bad = range.values.first(where: { !setting.isValid($0) }) {
                    throw APIError(
                        .badRequest, "grid.\(name) value \(TextFormat.plain(bad)) is not valid; valid: \(setting.validText)")
                }
                range.isInteger = false
            } else if let spec {
                if let bad = range.values.first(where: {
                    $0 < spec.min || $0 > spec.max || (spec.isInteger && $0 != $0.rounded())
                }) {
                    throw APIError(
                        .badRequest, "grid.\(name) value \(TextFormat.plain(bad)) is not valid; valid: \(spec.displayText)")
                }
                range.isInteger = spec.isInteger
            }
            ranges.append(range)
        }
        let methodName = try p.string("method")?.lowercased() ?? "grid"
        let trials = try p.int("trials", default: 50, 1...maxCandidates)!
        let seed = try p.int("seed", default: 42, 0...Int.max)!
        let method: SearchMethod
        switch methodName {
        case "grid": method = .grid
        case "random": method = .random(trials: trials, seed: UInt64(seed))
        case "bayesian": method = .bayesian(trials: trials, seed: UInt64(seed))
        default: throw APIError(.badRequest, "method must be grid, random or bayesian, got \"\(methodName)\"")
        }
        let metric = try p.string("metric") ?? "sharpe_ratio"
        guard BacktestReport.metricNames.contains(metric) else {
            throw APIError(
                .badRequest, "metric '\(metric)' is unknown; valid: \(BacktestReport.metricNames.joined(separator: ", "))")
        }
        var folds: Int?
        if let wf = p.value("walk_forward") {
            if let b = wf.boolValue {
                folds = b ? 4 : nil
            } else {
                let k = try p.int("walk_forward", default: nil, 0...20)
                folds = k == 0 ? nil : k
            }
        }
        if case .grid = method {
            var product = 1
            for r in ranges {
                product = product.multipliedReportingOverflow(by: max(r.values.count, 1)).partialValue
                if product > maxCandidates || product <= 0 {
                    throw APIError(
                        .badRequest,
                        "grid has more than \(maxCandidates) parameter sets; at most \(maxCandidates) per job (use method random with trials)"
                    )
                }
            }
        }
        let candidates: [[String: Double]]
        // A Bayesian search proposes its sets as it goes: the corners of the space stand for them
        // when checking that some set is valid and finding the largest warm-up.
        let checked: [[String: Double]]
        do {
            if case .bayesian(let trials, let seed) = method {
                _ = try TPESearch(ranges: ranges, trials: trials, seed: seed)
                candidates = []
                checked = corners(ranges, fixed: fixed)
            } else {
                candidates = try SearchSpace.candidates(ranges, method: method, fixed: fixed)
                checked = candidates
            }
        } catch {
            throw APIError(.badRequest, "grid: \(error)")
        }
        guard candidates.count <= maxCandidates else {
            throw APIError(
                .badRequest,
                "grid has \(candidates.count) parameter sets; at most \(maxCandidates) per job (use method random with trials)")
        }
        var warmup = -1
        var firstError: Error?
        for c in checked {
            do {
                warmup = max(warmup, try descriptor.make(BacktestConfig().applying(c).strategy).warmupBars)
            } catch { firstError = firstError ?? error }
        }
        if warmup < 0 {
            throw APIError(.badRequest, "grid: no valid parameter set; \(firstError.map { String(describing: $0) } ?? "")")
        }
        return OptimizeSpec(
            ranges: ranges, method: method, metric: metric, walkForward: folds,
            candidates: candidates, warmup: warmup)
    }

    /// Every combination of each range's smallest and largest value (with `fixed`): the corners
    /// of the search space. At most 2^12 of them: ranges after the twelfth take their largest value.
    static func corners(_ ranges: [ParameterRange], fixed: [String: Double]) -> [[String: Double]] {
        let bits = min(ranges.count, 12)
        var out: [[String: Double]] = []
        for mask in 0..<(1 << bits) {
            var set = fixed
            for (i, r) in ranges.enumerated() {
                set[r.name] = i >= bits || mask & (1 << i) != 0 ? r.upperBound : r.lowerBound
            }
            out.append(set)
        }
        return out
    }
}
