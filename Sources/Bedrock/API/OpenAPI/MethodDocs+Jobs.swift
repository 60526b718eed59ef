import JSONCodec

/// Documentation of the job methods (backtests, optimisations, training; Sources/Bedrock/Jobs,
/// docs/JOBS.md) and the research reads they need: strategies, klines, datasets.
extension MethodDocs {
    static let accepted: JSONValue = ["task_id": "bt-5f1c2a9e", "status": "PENDING"]
    static let jobStatus: JSONValue = [
        "task_id": "bt-5f1c2a9e", "status": "RUNNING", "progress": 0.42, "kind": "backtest", "owner": "alice",
        "created_at": "2026-12-07T15:02:00.000Z", "started_at": "2026-12-07T15:02:00.050Z", "finished_at": nil,
        "reason": nil, "request": ["strategy": "sma_cross", "market": "BTCUSDT", "interval": "1h"],
    ]
    static let runFields: [FieldDoc] = [
        .required("strategy", .string, "strategy name (GET /v1/strategies)", example: "sma_cross"),
        .optional("market", .string, "the market (with interval), unless `dataset` is given", example: "BTCUSDT"),
        .optional("interval", .string, "bar interval", example: "1h"),
        .optional("dataset", .string, "a CSV file of GET /v1/datasets instead of market and interval"),
        .optional("start_date", .string, "first day (YYYY-MM-DD)", example: "2024-01-01"),
        .optional("end_date", .string, "last day (YYYY-MM-DD)", example: "2024-06-30"),
        .optional("params", .object, "strategy parameters", example: ["fast": 10, "slow": 20]),
        .optional("initial_balance", .number, "starting balance (default 10000)", example: 10000),
        .optional("commission", .number, "commission rate per fill", example: 0.001),
        .optional("slippage", .number, "slippage rate per fill", example: 0.0005),
    ]

    static let jobs: [Method: MethodDoc] = [
        .backtestSubmit: MethodDoc(
            tag: "Jobs", summary: "Queue a backtest; progress and completion also reach the caller's `user` topic.",
            fields: runFields, response: accepted),
        .backtestStatus: MethodDoc(
            tag: "Jobs", summary: "A job's status (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED) and progress 0..1.",
            fields: [.taskID], response: jobStatus),
        .backtestReport: MethodDoc(
            tag: "Jobs", summary: "A completed job's report (409 until COMPLETED).", fields: [.taskID],
            response: [
                "strategy_name": "sma_cross", "start_date": "2024-01-01", "end_date": "2024-06-30", "initial_balance": 10000,
                "final_balance": 11250.4, "total_trades": 18, "winning_trades": 10, "losing_trades": 8, "win_rate": 55.6,
                "profit_factor": 1.8, "max_drawdown": 6.2, "sharpe_ratio": 1.4, "roi": 12.5,
                "parameters": ["fast": 10, "slow": 20],
                "trades": [
                    [
                        "entry_time": "2024-01-03T10:00:00Z", "exit_time": "2024-01-05T02:00:00Z", "side": "BUY",
                        "entry_price": 42000.0, "exit_price": 43100.0, "size": 0.2, "pnl": 211.5, "commission": 17.0,
                        "exit_reason": "SIGNAL",
                    ]
                ],
                "equity_curve": [["2024-01-01T00:00:00Z", 10000.0]],
            ]),
        .backtestCancel: MethodDoc(
            tag: "Jobs", summary: "Cancel a job (its owner or an ADMIN; 409 once COMPLETED or FAILED).", fields: [.taskID],
            response: ["task_id": "bt-5f1c2a9e", "status": "CANCELLED"]),
        .backtestJobs: MethodDoc(
            tag: "Jobs", summary: "The caller's jobs (an ADMIN's: everyone's), newest first.",
            fields: [
                .limit, .offset, .optional("kind", .string, "only this kind", choices: ["backtest", "optimize", "train"]),
            ],
            response: page([
                "task_id": "bt-5f1c2a9e", "kind": "backtest", "status": "COMPLETED", "owner": "alice",
                "created_at": "2026-12-07T15:02:00.000Z", "finished_at": "2026-12-07T15:02:03.100Z", "progress": 1,
                "summary": ["strategy": "sma_cross", "market": "BTCUSDT"], "metrics": ["roi": 12.5, "win_rate": 55.6],
            ])),
        .optimizeSubmit: MethodDoc(
            tag: "Jobs", summary: "Queue a parameter search; its report ranks parameter sets.",
            fields: runFields + [
                .required("grid", .object, "parameter → values to try", example: ["fast": [5, 10], "slow": [20, 30]]),
                .optional("method", .string, "search method", choices: ["grid", "random", "bayesian"], example: "grid"),
                .optional("trials", .integer, "sets to try (random, bayesian)"),
                .optional("metric", .string, "what to rank by", example: "sharpe_ratio"),
                .optional("walk_forward", .object, "walk-forward folds"),
            ], response: ["task_id": "opt-77aa01c3", "status": "PENDING"]),
        .trainingSubmit: MethodDoc(
            tag: "Jobs", summary: "Queue the training of an ML confidence model (docs/ML.md).",
            fields: runFields + [
                .optional("model_name", .string, "registry name of the model", example: "btc-confidence"),
                .optional("hyperparameters", .object, "tree booster settings"),
                .optional("folds", .integer, "cross-validation folds"),
            ], response: ["task_id": "tr-90b1c2d3", "status": "PENDING"]),
        .trainingStatus: MethodDoc(
            tag: "Jobs", summary: "A training job's status; `model` once COMPLETED.", fields: [.taskID], response: jobStatus),
        .trainingCancel: MethodDoc(
            tag: "Jobs", summary: "Cancel a training job.", fields: [.taskID],
            response: ["task_id": "tr-90b1c2d3", "status": "CANCELLED"]),
        .strategiesList: MethodDoc(
            tag: "Research", summary: "The strategies and their parameters.",
            response: [
                "total": 1,
                "data": [
                    [
                        "name": "sma_cross", "description": "fast SMA crossing the slow one",
                        "params": [
                            [
                                "name": "fast", "default": 10, "min": 2, "max": 200, "integer": true,
                                "description": "fast SMA length",
                            ]
                        ],
                    ]
                ],
            ]),
        .klinesList: MethodDoc(
            tag: "Research", summary: "A market's bars by open time, oldest first (at most 5000).",
            fields: [
                .required("market", .string, "the market", example: "BTCUSDT"),
                .required("interval", .string, "bar interval", example: "1h"),
                .optional("start", .string, "from this open time, inclusive (RFC 3339 or epoch ms)"),
                .optional("end", .string, "to this open time, inclusive (RFC 3339 or epoch ms)"),
                .optional("limit", .integer, "1-5000 bars (default 500)"),
            ],
            response: [
                "market": "BTCUSDT", "interval": "1h", "topic": "klines:BTCUSDT:1h", "last_id": "1733583600000-0", "total": 1,
                "data": [
                    [
                        "open_time": "2026-12-07T14:00:00.000Z", "open": 64100.0, "high": 64400.0, "low": 63950.0,
                        "close": 64250.5, "volume": 812.4,
                    ]
                ],
            ]),
        .datasetsList: MethodDoc(
            tag: "Research", summary: "The CSV files a backtest may name.",
            response: [
                "total": 1,
                "data": [
                    [
                        "name": "btc-1h.csv", "size": 1_048_576, "modified_at": "2026-12-01T08:00:00.000Z", "rows": 8760,
                        "start": "2024-01-01T00:00:00.000Z", "end": "2024-12-31T23:00:00.000Z", "market": "BTCUSDT",
                        "interval": "1h",
                    ]
                ],
            ]),
    ]
}
