import JSONCodec

/// Documentation of the ledger's methods: markets, signals, positions, trades, account, stats
/// and risk (Sources/Bedrock/Ledger, docs/LEDGER.md).
extension MethodDocs {
    static let signal: JSONValue = [
        "id": 42, "market": "BTCUSDT", "interval": "1h", "signal_type": "PULLBACK_BUY", "side": "BUY",
        "entry_price": 64250.5, "stop_loss_price": 63100.0, "profit_target_price": 66551.5, "risk_unit_r": 1150.5,
        "suggested_position_weight": 0.8, "rule_engine_score": 88, "ml_confidence_score": 71, "llm_sentiment": "POSITIVE",
        "final_decision": "APPROVED", "explanation": "uptrend pullback to the EMA(20) zone; weighted score 79 ≥ 60",
        "strategy": "pullback", "bar_time": "2026-12-07T14:00:00.000Z", "created_at": "2026-12-07T15:00:00.412Z",
    ]
    static let position: JSONValue = [
        "id": 7, "signal_id": 42, "market": "BTCUSDT", "side": "BUY", "status": "OPEN", "size": 0.0155,
        "entry_price": 64250.5, "current_price": 64400.0, "stop_loss_price": 63100.0, "initial_stop_price": 63100.0,
        "trailing_stop_price": nil, "trailing_armed": false, "profit_target_price": 66551.5, "position_weight_used": 0.8,
        "cost": 995.88, "unrealized_pnl": 2.32, "realized_pnl": 0, "commission": 1.0, "exit_price": nil, "exit_reason": nil,
        "strategy": "pullback", "opened_at": "2026-12-07T15:00:01.020Z", "closed_at": nil, "opened_by": "engine",
        "closed_by": nil, "updated_at": "2026-12-07T15:10:00.000Z",
    ]
    static let trade: JSONValue = [
        "id": 3, "position_id": 7, "signal_id": 42, "market": "BTCUSDT", "side": "BUY", "size": 0.0155,
        "entry_price": 64250.5, "exit_price": 66551.5, "pnl": 33.64, "gross_pnl": 35.66, "commission": 2.02,
        "exit_reason": "TARGET", "entry_time": "2026-12-07T15:00:01.020Z", "exit_time": "2026-12-08T03:00:00.150Z",
        "duration_s": 43199, "strategy": "pullback",
    ]
    static func page(_ row: JSONValue) -> JSONValue { ["total": 1, "page": 1, "page_size": 20, "data": [row]] }
    static let statsRow: JSONValue = [
        "trades": 4, "wins": 3, "losses": 1, "pnl": 120.5, "gross_profit": 160.0, "gross_loss": 39.5, "commission": 8.1,
        "win_rate": 75.0, "profit_factor": 4.05,
    ]
    static let statsFilters: [FieldDoc] = [.from, .to]
    static let risk: JSONValue = [
        "kill_switch": false, "kill_switch_updated_by": "alice", "kill_switch_updated_at": "2026-12-07T09:12:00.000Z",
        "equity": 10120.5, "peak_equity": 10200.0, "day_start_equity": 10050.0, "drawdown": 0.0078, "daily_loss": 0.0,
        "open_positions": 1, "exposure": 996.1, "exposure_fraction": 0.098,
        "limits": [
            "max_open_positions": 5, "max_exposure": 1.0, "min_reward_risk": 1.5, "daily_loss_limit": 0.03,
            "max_drawdown": 0.2,
        ],
        "refusals": ["MAX_OPEN_POSITIONS": 0],
    ]

    static let ledger: [Method: MethodDoc] = [
        .marketsList: MethodDoc(
            tag: "Markets", summary: "Markets with data: per interval the feed's status and its last bar.",
            response: [
                "total": 1,
                "data": [
                    [
                        "market": "BTCUSDT", "exchange": "binance", "symbol": "BTC/USDT", "status": "live",
                        "intervals": [
                            [
                                "interval": "1h", "topic": "klines:BTCUSDT:1h", "exchange": "binance", "symbol": "BTC/USDT",
                                "status": "live", "bars": 5000, "last_bar_time": "2026-12-07T14:00:00.000Z",
                                "last_id": "1733583600000-0",
                                "last_bar": [
                                    "open_time": "2026-12-07T14:00:00.000Z", "open": 64100.0, "high": 64400.0, "low": 63950.0,
                                    "close": 64250.5, "volume": 812.4,
                                ],
                            ]
                        ],
                    ]
                ],
            ]),
        .signalsList: MethodDoc(
            tag: "Signals", summary: "A page of signals, newest first; `total` counts the matching rows.",
            fields: [
                .market, .optional("interval", .string, "bar interval", example: "1h"),
                .optional("strategy", .string, "strategy name"), .optional("side", .string, "side", choices: ["BUY", "SELL"]),
                .optional("final_decision", .string, "the arbiter's decision", choices: ["APPROVED", "REJECTED"]), .from, .to,
                .limit, .offset,
            ], response: page(signal)),
        .signalsGet: MethodDoc(
            tag: "Signals", summary: "One signal.", fields: [.required("id", .integer, "the signal's id")], response: signal),
        .signalsGenerate: MethodDoc(
            tag: "Signals", summary: "Run the strategies on the latest bars now: the signal, or `null` with the reason.",
            fields: [
                .required("market", .string, "the market", example: "BTCUSDT"),
                .required("interval", .string, "bar interval", example: "1h"),
                .optional(
                    "force_analysis", .boolean, "also answer `analysis`: what every strategy concluded on the bar",
                    example: false),
            ],
            response: [
                "signal": signal, "reason": nil, "signals": [signal], "market": "BTCUSDT", "interval": "1h",
                "bar_time": "2026-12-07T14:00:00.000Z", "created": true,
            ]),
        .signalsArbiterStats: MethodDoc(
            tag: "Signals", summary: "How many signals the arbiter approved and rejected, and why.",
            response: ["approved": 12, "rejected": 30, "rejection_reasons": ["score below threshold": 28, "risk guard": 2]]),
        .positionsList: MethodDoc(
            tag: "Positions", summary: "A page of positions (OPEN first; CLOSED newest close first).",
            fields: [
                .market, .optional("status", .string, "position status", choices: ["OPEN", "CLOSED"]),
                .optional("side", .string, "side", choices: ["BUY", "SELL"]),
                .optional("exit_reason", .string, "why it closed (STOP, TARGET, TRAILING_STOP, MANUAL, ...)"),
                .optional("strategy", .string, "strategy name"), .from, .to, .limit, .offset,
            ], response: page(position)),
        .positionsGet: MethodDoc(
            tag: "Positions", summary: "One position.", fields: [.required("id", .integer, "the position's id")],
            response: position),
        .positionsEstimate: MethodDoc(
            tag: "Positions",
            summary: "Size, cost and risk of a position before opening it, and whether the risk guard allows it.",
            details: "Either `signal_id`, or `market` with `entry_price` and `stop_loss_price`.",
            fields: [
                .optional("signal_id", .integer, "estimate for this signal"), .market,
                .optional("entry_price", .number, "entry price"), .optional("stop_loss_price", .number, "stop price"),
                .optional("suggested_position_weight", .number, "weight (0, 1]; without it fixed-risk sizing"),
                .optional("profit_target_price", .number, "target price (for the reward:risk check)"),
            ],
            response: [
                "estimated_position_size": 0.0155, "estimated_cost": 996.1, "risk_percentage": 0.18,
                "position_weight_used": 0.8, "allowed": true, "reasons": [],
            ]),
        .positionsOpen: MethodDoc(
            tag: "Positions", summary: "Open a position by hand (risk guard applies; 409 with `details.reasons` when refused).",
            fields: [
                .required("market", .string, "the market", example: "BTCUSDT"),
                .required("side", .string, "side", choices: ["BUY", "SELL"], example: "BUY"),
                .required("stop_loss_price", .number, "stop price", example: 63100),
                .optional("size", .number, "size in base units (> 0)"),
                .optional("weight", .number, "weight of the balance (0, 1], default 1", example: 0.5),
                .optional("profit_target_price", .number, "target price"),
            ], response: position),
        .positionsClose: MethodDoc(
            tag: "Positions", summary: "Close an open position at the market price.",
            fields: [.required("id", .integer, "the position's id")], response: position),
        .tradesList: MethodDoc(
            tag: "Trades", summary: "A page of trades (closed positions' fills), newest first.",
            fields: [
                .market, .optional("side", .string, "side", choices: ["BUY", "SELL"]),
                .optional("exit_reason", .string, "why it closed"), .optional("strategy", .string, "strategy name"), .from,
                .to, .limit, .offset,
            ], response: page(trade)),
        .accountGet: MethodDoc(
            tag: "Account", summary: "The paper account's balances.",
            response: [
                "balance": 10000.0, "available_balance": 9003.9, "frozen_balance": 996.1, "equity": 10012.4,
                "updated_at": "2026-12-07T15:00:01.020Z", "initial_balance": 10000.0, "unrealized_pnl": 12.4,
                "realized_pnl": 0.0, "commission_paid": 1.0,
            ]),
        .statsGet: MethodDoc(
            tag: "Stats", summary: "Trading totals.",
            response: [
                "total_pnl": 120.5, "win_rate": 75.0, "avg_trade_duration_s": 43200, "open_positions": 1, "exposure": 996.1,
                "total_trades": 4, "winning_trades": 3, "losing_trades": 1, "unrealized_pnl": 12.4,
            ]),
        .statsDaily: MethodDoc(
            tag: "Stats", summary: "Per UTC day: equity, trades and P&L.", fields: statsFilters,
            response: ["data": [["date": "2026-12-07", "equity": 10120.5, "trades": 4]], "totals": statsRow]),
        .statsByMarket: MethodDoc(
            tag: "Stats", summary: "Trades and P&L per market.", fields: statsFilters,
            response: ["data": [["market": "BTCUSDT", "trades": 4, "pnl": 120.5]], "totals": statsRow]),
        .statsByExitReason: MethodDoc(
            tag: "Stats", summary: "Trades and P&L per exit reason.", fields: statsFilters,
            response: ["data": [["exit_reason": "TARGET", "trades": 3, "pnl": 160.0]], "totals": statsRow]),
        .statsByStrategy: MethodDoc(
            tag: "Stats", summary: "Trades and P&L per strategy.", fields: statsFilters,
            response: ["data": [["strategy": "pullback", "trades": 4, "pnl": 120.5]], "totals": statsRow]),
        .riskGet: MethodDoc(tag: "Risk", summary: "The risk guard's state and limits.", response: risk),
        .riskKillSwitch: MethodDoc(
            tag: "Risk", summary: "Engage or release the kill switch (no new entries while engaged).",
            fields: [
                .required("enabled", .boolean, "true engages, false releases", example: true),
                .optional("reason", .string, "why (kept with the state)", example: "maintenance"),
            ], response: risk),
    ]
}
