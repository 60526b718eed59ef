import JWTAuth

/// The request methods of SPEC §5 and the least role allowed to call each (SPEC §6).
/// One table serves REST and WebSocket.
///
/// | method                  | least role |
/// |-------------------------|------------|
/// | `markets.list`          | VIEWER     |
/// | `signals.list`          | VIEWER     |
/// | `signals.get`           | VIEWER     |
/// | `signals.generate`      | TRADER     |
/// | `signals.arbiter_stats` | VIEWER     |
/// | `positions.list`        | VIEWER     |
/// | `positions.get`         | VIEWER     |
/// | `positions.estimate`    | VIEWER     |
/// | `positions.open`        | TRADER     |
/// | `positions.close`       | TRADER     |
/// | `trades.list`           | VIEWER     |
/// | `account.get`           | VIEWER     |
/// | `stats.get`             | VIEWER     |
/// | `risk.get`              | VIEWER     |
/// | `risk.kill_switch`      | ADMIN      |
/// | `backtest.submit`       | TRADER     |
/// | `backtest.status`       | VIEWER     |
/// | `backtest.report`       | VIEWER     |
/// | `backtest.cancel`       | TRADER     |
/// | `backtest.jobs`         | VIEWER     |
/// | `optimize.submit`       | TRADER     |
/// | `training.submit`       | TRADER     |
/// | `training.status`       | VIEWER     |
/// | `training.cancel`       | TRADER     |
/// | `strategies.list`       | VIEWER     |
/// | `klines.list`           | VIEWER     |
/// | `datasets.list`         | VIEWER     |
/// | `models.list`           | VIEWER     |
/// | `models.import`         | ADMIN      |
/// | `models.deploy`         | ADMIN      |
/// | `models.predict`        | VIEWER     |
/// | `models.performance`    | VIEWER     |
/// | `stats.daily`           | VIEWER     |
/// | `stats.by_market`       | VIEWER     |
/// | `stats.by_exit_reason`  | VIEWER     |
/// | `stats.by_strategy`     | VIEWER     |
/// | `events.publish`        | ADMIN      |
/// | `events.history`        | VIEWER (and the topic's own role) |
/// | `presence.get`          | ADMIN      |
/// | `admin.disconnect`      | ADMIN      |
public enum Method: String, Sendable, CaseIterable, Hashable {
    case marketsList = "markets.list"
    case signalsList = "signals.list"
    case signalsGet = "signals.get"
    case signalsGenerate = "signals.generate"
    case signalsArbiterStats = "signals.arbiter_stats"
    case positionsList = "positions.list"
    case positionsGet = "positions.get"
    case positionsEstimate = "positions.estimate"
    case positionsOpen = "positions.open"
    case positionsClose = "positions.close"
    case tradesList = "trades.list"
    case accountGet = "account.get"
    case statsGet = "stats.get"
    case riskGet = "risk.get"
    case riskKillSwitch = "risk.kill_switch"
    case backtestSubmit = "backtest.submit"
    case backtestStatus = "backtest.status"
    case backtestReport = "backtest.report"
    case backtestCancel = "backtest.cancel"
    case backtestJobs = "backtest.jobs"
    case optimizeSubmit = "optimize.submit"
    case trainingSubmit = "training.submit"
    case trainingStatus = "training.status"
    case trainingCancel = "training.cancel"
    case strategiesList = "strategies.list"
    case klinesList = "klines.list"
    case datasetsList = "datasets.list"
    case modelsList = "models.list"
    case modelsImport = "models.import"
    case modelsDeploy = "models.deploy"
    case modelsPredict = "models.predict"
    case modelsPerformance = "models.performance"
    case newsPublish = "news.publish"
    case sentimentGet = "sentiment.get"
    case journalGenerate = "journal.generate"
    case reviewGenerate = "review.generate"
    case engineGet = "engine.get"
    case engineConfigure = "engine.configure"
    case engineVersions = "engine.versions"
    case engineDeploy = "engine.deploy"
    case enginePause = "engine.pause"
    case engineResume = "engine.resume"
    case statsDaily = "stats.daily"
    case statsByMarket = "stats.by_market"
    case statsByExitReason = "stats.by_exit_reason"
    case statsByStrategy = "stats.by_strategy"
    case eventsPublish = "events.publish"
    case eventsHistory = "events.history"
    case presenceGet = "presence.get"
    case adminDisconnect = "admin.disconnect"

    /// The least role that may call this method.
    public var leastRole: Role {
        switch self {
        case .signalsGenerate, .positionsOpen, .positionsClose, .backtestSubmit, .backtestCancel, .optimizeSubmit,
            .trainingSubmit, .trainingCancel, .newsPublish, .journalGenerate, .reviewGenerate:
            return .trader
        case .riskKillSwitch, .modelsImport, .modelsDeploy, .engineConfigure, .engineDeploy, .enginePause, .engineResume,
            .eventsPublish, .presenceGet, .adminDisconnect:
            return .admin
        default:
            return .viewer
        }
    }
}

/// Method access by role (SPEC §6).
public enum MethodACL {
    /// Outcome of checking a method name against a caller's role.
    public enum Decision: Sendable, Equatable {
        /// Known method and the role may call it.
        case allowed(Method)
        /// Known method, role too low: answer `FORBIDDEN` and nothing else.
        case forbidden(Method)
        /// Not a method of the table: answer `NOT_FOUND`.
        case unknown
    }

    /// The least role for a method name, or `nil` when the name is not a known method.
    public static func leastRole(for method: String) -> Role? {
        Method(rawValue: method)?.leastRole
    }

    /// True when `role` may call the known method `method`.
    public static func canCall(role: Role, method: Method) -> Bool {
        role.satisfies(method.leastRole)
    }

    /// Looks up `name` and checks it against `role`.
    public static func check(role: Role, method name: String) -> Decision {
        guard let m = Method(rawValue: name) else { return .unknown }
        return canCall(role: role, method: m) ? .allowed(m) : .forbidden(m)
    }
}
