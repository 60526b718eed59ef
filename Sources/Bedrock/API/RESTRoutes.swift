/// The REST routes of SPEC §4 and the method each one calls. Path segments written `{name}`
/// become parameters of that name.
enum RESTRoutes {
    struct Route {
        let verb: String
        let segments: [String]
        let method: Method
    }

    static let table: [Route] = [
        route("GET", "/v1/markets", .marketsList),
        route("GET", "/v1/signals", .signalsList),
        route("POST", "/v1/signals/generate", .signalsGenerate),
        route("GET", "/v1/signals/arbiter-stats", .signalsArbiterStats),
        route("GET", "/v1/signals/{id}", .signalsGet),
        route("GET", "/v1/positions", .positionsList),
        route("GET", "/v1/positions/estimate", .positionsEstimate),
        route("POST", "/v1/positions/open", .positionsOpen),
        route("GET", "/v1/positions/{id}", .positionsGet),
        route("POST", "/v1/positions/{id}/close", .positionsClose),
        route("GET", "/v1/trades", .tradesList),
        route("GET", "/v1/account", .accountGet),
        route("GET", "/v1/stats", .statsGet),
        route("GET", "/v1/stats/daily", .statsDaily),
        route("GET", "/v1/stats/by-market", .statsByMarket),
        route("GET", "/v1/stats/by-exit-reason", .statsByExitReason),
        route("GET", "/v1/stats/by-strategy", .statsByStrategy),
        route("GET", "/v1/risk", .riskGet),
        route("POST", "/v1/risk/kill-switch", .riskKillSwitch),
        route("POST", "/v1/backtest/submit", .backtestSubmit),
        route("GET", "/v1/backtest/status/{task_id}", .backtestStatus),
        route("GET", "/v1/backtest/report/{task_id}", .backtestReport),
        route("POST", "/v1/backtest/cancel/{task_id}", .backtestCancel),
        route("GET", "/v1/backtest/jobs", .backtestJobs),
        route("POST", "/v1/optimize/parameters", .optimizeSubmit),
        route("POST", "/v1/training/submit", .trainingSubmit),
        route("GET", "/v1/training/status/{task_id}", .trainingStatus),
        route("POST", "/v1/training/cancel/{task_id}", .trainingCancel),
        route("GET", "/v1/strategies", .strategiesList),
        route("GET", "/v1/klines", .klinesList),
        route("GET", "/v1/datasets", .datasetsList),
        route("GET", "/v1/models", .modelsList),
        route("POST", "/v1/models/import", .modelsImport),
        route("POST", "/v1/models/{name}/predict", .modelsPredict),
        route("POST", "/v1/models/{name}/{version}/deploy", .modelsDeploy),
        route("GET", "/v1/models/{name}/{version}/performance", .modelsPerformance),
        route("POST", "/v1/news", .newsPublish),
        route("GET", "/v1/sentiment", .sentimentGet),
        route("POST", "/v1/journal/generate", .journalGenerate),
        route("POST", "/v1/review/generate", .reviewGenerate),
        route("GET", "/v1/engine", .engineGet),
        route("POST", "/v1/engine/config", .engineConfigure),
        route("GET", "/v1/engine/versions", .engineVersions),
        route("POST", "/v1/engine/deploy", .engineDeploy),
        route("POST", "/v1/engine/pause", .enginePause),
        route("POST", "/v1/engine/resume", .engineResume),
        route("POST", "/v1/publish", .eventsPublish),
        route("GET", "/v1/history", .eventsHistory),
        route("GET", "/v1/presence", .presenceGet),
        route("POST", "/v1/admin/disconnect", .adminDisconnect),
    ]

    private static func route(_ verb: String, _ path: String, _ method: Method) -> Route {
        Route(verb: verb, segments: path.split(separator: "/").map(String.init), method: method)
    }

    /// The method and path parameters for a request, or nil when no route matches. The first
    /// matching route wins, so literal routes are listed before parameterised ones.
    static func match(verb: String, path: String) -> (method: Method, params: [(String, String)])? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let wantedVerb = verb == "HEAD" ? "GET" : verb
        for route in table where route.verb == wantedVerb {
            if let params = parameters(route, parts) { return (route.method, params) }
        }
        return nil
    }

    /// The verbs some route answers on `path` (`GET` with `HEAD`), in table order; empty when no
    /// route has that path (what a 405's `Allow` lists).
    static func verbs(for path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var verbs: [String] = []
        for route in table where !verbs.contains(route.verb) && parameters(route, parts) != nil {
            verbs += route.verb == "GET" ? ["GET", "HEAD"] : [route.verb]
        }
        return verbs
    }

    /// The path parameters when `parts` fit the route's segments, else nil.
    private static func parameters(_ route: Route, _ parts: [String]) -> [(String, String)]? {
        guard route.segments.count == parts.count else { return nil }
        var params: [(String, String)] = []
        for (pattern, part) in zip(route.segments, parts) {
            if pattern.hasPrefix("{") && pattern.hasSuffix("}") {
                params.append((String(pattern.dropFirst().dropLast()), part))
            } else if pattern != part {
                return nil
            }
        }
        return params
    }
}
