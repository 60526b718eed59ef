import JSONCodec

/// Documentation of the model registry (docs/ML.md), news and sentiment, the journal and review
/// (docs/LLM.md) and the live engine's configuration (docs/ENGINE.md).
extension MethodDocs {
    static let modelVersion: JSONValue = [
        "name": "btc-confidence", "version": 3, "created_at": "2026-12-06T10:00:00.000Z", "source": "training",
        "features": ["rsi_14", "atr_pct"], "metrics": ["auc": 0.64], "status": "deployed", "traffic": 100,
    ]
    static let modelPath: [FieldDoc] = [
        .required("name", .string, "the model's registry name"), .required("version", .integer, "the version"),
    ]
    static let engine: JSONValue = [
        "version": 12, "status": "running",
        "strategies": [["name": "pullback", "params": ["ema": 20], "markets": ["BTCUSDT:1h"]]],
        "arbiter": ["rule_weight": 0.5, "ml_weight": 0.3, "llm_weight": 0.2, "threshold": 60],
        "updated_by": "alice", "updated_at": "2026-12-07T09:00:00.000Z", "source": "api",
    ]

    static let models: [Method: MethodDoc] = [
        .modelsList: MethodDoc(
            tag: "Models", summary: "Model versions (newest first), traffic split and the arbiter's weights.",
            fields: [
                .optional("limit", .integer, "1-1000 (default 100)"), .offset,
            ],
            response: [
                "models": [modelVersion], "total": 1, "limit": 100, "offset": 0, "traffic": ["btc-confidence@3": 100],
                "arbiter": ["rule_weight": 0.5, "ml_weight": 0.3, "llm_weight": 0.2, "threshold": 60],
            ]),
        .modelsImport: MethodDoc(
            tag: "Models", summary: "Import an XGBoost JSON model as a new version (body up to 32 MiB).",
            fields: [
                .required("name", .string, "registry name", example: "btc-confidence"),
                .required("model", .object, "the XGBoost model JSON (or its text)"),
            ], response: modelVersion),
        .modelsDeploy: MethodDoc(
            tag: "Models", summary: "Give a version a share of the live traffic.",
            fields: modelPath + [.required("traffic_percentage", .integer, "0-100", example: 100)],
            response: [
                "name": "btc-confidence", "version": 3, "status": "deployed", "traffic": ["btc-confidence@3": 100],
                "retired": ["btc-confidence@2"], "note": nil,
            ]),
        .modelsPredict: MethodDoc(
            tag: "Models", summary: "The model's confidence for a feature row or a signal.",
            fields: [
                .required("name", .string, "the model's registry name"),
                .optional("features", .object, "column → number or null", example: ["rsi_14": 41.2, "atr_pct": 0.8]),
                .optional("signal_id", .integer, "score this signal's features instead"),
                .optional("version", .integer, "a version other than the deployed one"),
            ], response: ["ml_confidence_score": 71.4, "ml_model": "btc-confidence@3"]),
        .modelsPerformance: MethodDoc(
            tag: "Models", summary: "How a version's scores fared on closed trades.", fields: modelPath,
            response: [
                "model": "btc-confidence@3", "name": "btc-confidence", "version": 3, "count": 40, "wins": 22, "win_rate": 55.0,
                "auc": 0.61,
            ]),
        .newsPublish: MethodDoc(
            tag: "LLM", summary: "Publish a news item (the LLM reads it for sentiment).",
            fields: [
                .required("title", .string, "headline, at most 500 characters", example: "ETF inflows hit a record"),
                .required("source", .string, "who wrote it, at most 100 characters", example: "newswire"),
                .optional("market", .string, "the market it concerns", example: "BTCUSDT"),
                .optional("body", .string, "text, at most 20,000 characters"), .optional("url", .string, "http(s) link"),
                .optional("published_at", .string, "RFC 3339 (default now)"),
            ], response: ["event_id": "1733583600123-0", "market": "BTCUSDT", "published_at": "2026-12-07T15:00:00.123Z"]),
        .sentimentGet: MethodDoc(
            tag: "LLM", summary: "The LLM's sentiment for a market (without `market`: `{data:[…]}` per market).",
            fields: [.market],
            response: [
                "market": "BTCUSDT", "llm_sentiment": "POSITIVE", "reason": "strong inflows, no negative news",
                "as_of": "2026-12-07T14:55:00.000Z", "source": "llm",
            ]),
        .journalGenerate: MethodDoc(
            tag: "LLM", summary: "Write (or rewrite) the journal entry of a trade.",
            fields: [.required("trade_id", .integer, "the trade's id", example: 3)],
            response: ["trade_id": 3, "markdown": "# Trade 3\n…", "download": "/v1/journal/3/markdown"]),
        .reviewGenerate: MethodDoc(
            tag: "LLM", summary: "Write the review of a period (at most 366 days).",
            fields: [
                .required("start_date", .string, "first day, YYYY-MM-DD (UTC)", example: "2026-11-01"),
                .required("end_date", .string, "last day, YYYY-MM-DD (UTC)", example: "2026-11-30"),
            ],
            response: [
                "start_date": "2026-11-01", "end_date": "2026-11-30", "trade_count": 18, "truncated": false,
                "markdown": "# Review\n…", "download": "/v1/review/markdown?start_date=2026-11-01&end_date=2026-11-30",
            ]),
        .engineGet: MethodDoc(tag: "Engine", summary: "The live engine's configuration.", response: engine),
        .engineConfigure: MethodDoc(
            tag: "Engine", summary: "Store a new configuration version (the part left out is kept).",
            fields: [
                .optional("strategies", .array, "strategies with params and markets"),
                .optional("arbiter", .object, "weights and threshold", example: ["threshold": 65]),
            ], response: engine),
        .engineVersions: MethodDoc(
            tag: "Engine", summary: "Stored configuration versions, newest first.", fields: [.limit, .offset],
            response: page(engine)),
        .engineDeploy: MethodDoc(
            tag: "Engine", summary: "Deploy the parameters an optimisation found.",
            fields: [
                .required("task_id", .string, "a COMPLETED optimisation", example: "opt-77aa01c3"),
                .optional("rank", .integer, "which ranked set (default 1)", example: 1),
            ], response: ["config": engine, "ignored": [], "warnings": []]),
        .enginePause: MethodDoc(
            tag: "Engine", summary: "Pause the live engine (409 when paused already).", response: engine),
        .engineResume: MethodDoc(
            tag: "Engine", summary: "Resume the live engine (409 when running already).", response: engine),
    ]
}
