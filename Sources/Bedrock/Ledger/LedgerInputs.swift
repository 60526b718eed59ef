import JSONCodec

/// A signal to record (SPEC §8 Signal fields, plus the strategy name that makes it unique).
public struct SignalInput: Sendable, Equatable {
    public var strategy: String
    public var market: String
    public var interval: String
    /// The decision bar's open time, RFC 3339 UTC.
    public var barTime: String
    /// PULLBACK_BUY, OOPS_BUY, OOPS_SELL or SMA_CROSS_BUY.
    public var signalType: String
    /// BUY or SELL.
    public var side: String
    public var entryPrice: Double
    public var stopLossPrice: Double?
    public var profitTargetPrice: Double?
    public var riskUnitR: Double?
    public var suggestedPositionWeight: Double?
    public var ruleEngineScore: Double
    public var mlConfidenceScore: Double?
    /// The model version that scored it (`name@version`), nil when none did.
    public var mlModel: String?
    /// Its feature vector (`MLFeatures` order, NaN = missing), nil when not computed.
    public var features: [Double]?
    /// POSITIVE, NEUTRAL, NEGATIVE or nil.
    public var llmSentiment: String?
    /// APPROVED or REJECTED.
    public var finalDecision: String
    public var explanation: String
    /// A short code counted in the arbiter's rejection reasons (default BELOW_THRESHOLD).
    public var rejectionReason: String?
    /// The parameters (defaults filled in) of the strategy that produced it.
    public var params: [String: Double]?
    /// The engine configuration version it ran under (0: the file's).
    public var configVersion: Int?

    /// Creates a signal input.
    public init(
        strategy: String, market: String, interval: String, barTime: String, signalType: String,
        side: String, entryPrice: Double, stopLossPrice: Double? = nil, profitTargetPrice: Double? = nil,
        riskUnitR: Double? = nil, suggestedPositionWeight: Double? = nil, ruleEngineScore: Double,
        mlConfidenceScore: Double? = nil, llmSentiment: String? = nil, finalDecision: String,
        explanation: String, rejectionReason: String? = nil, mlModel: String? = nil, features: [Double]? = nil
    ) {
        self.strategy = strategy; self.market = market; self.interval = interval; self.barTime = barTime
        self.signalType = signalType; self.side = side; self.entryPrice = entryPrice
        self.stopLossPrice = stopLossPrice; self.profitTargetPrice = profitTargetPrice; self.riskUnitR = riskUnitR
        self.suggestedPositionWeight = suggestedPositionWeight; self.ruleEngineScore = ruleEngineScore
        self.mlConfidenceScore = mlConfidenceScore; self.llmSentiment = llmSentiment
        self.finalDecision = finalDecision; self.explanation = explanation; self.rejectionReason = rejectionReason
        self.mlModel = mlModel; self.features = features
    }

    /// The script request (numbers as 8-decimal text).
    var request: JSONObject {
        func n(_ d: Double?) -> JSONValue { d.map { .string(Money.text($0)) } ?? .null }
        return [
            "strategy": .string(strategy), "market": .string(market), "interval": .string(interval),
            "bar_time": .string(barTime), "signal_type": .string(signalType), "side": .string(side),
            "entry_price": n(entryPrice), "stop_loss_price": n(stopLossPrice),
            "profit_target_price": n(profitTargetPrice), "risk_unit_r": n(riskUnitR),
            "suggested_position_weight": n(suggestedPositionWeight), "rule_engine_score": n(ruleEngineScore),
            "ml_confidence_score": n(mlConfidenceScore), "llm_sentiment": .optional(llmSentiment),
            "final_decision": .string(finalDecision), "explanation": .string(explanation),
            "rejection_reason": .optional(rejectionReason), "ml_model": .optional(mlModel),
            "features": features.map { .string(SignalInput.featuresText($0)) } ?? .null,
            "params": params.map { p in
                .string(
                    JSONCodec.encodeString(.object(p.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.number($0.value)) })))
            } ?? .null,
            "config_version": configVersion.map { .int(Int64($0)) } ?? .null,
        ]
    }
}

extension SignalInput {
    /// A feature vector as stored on the signal: a JSON array, null for a missing (NaN or
    /// infinite) value, numbers in shortest round-trip form.
    static func featuresText(_ features: [Double]) -> String {
        "[" + features.map { $0.isFinite ? "\($0)" : "null" }.joined(separator: ",") + "]"
    }
}

/// A position to open.
public struct OpenInput: Sendable, Equatable {
    /// The signal it comes from (the open is idempotent per signal id); nil for none.
    public var signalID: Int64?
    public var market: String
    /// BUY or SELL.
    public var side: String
    /// Base units (rounded to 8 decimals).
    public var size: Double
    public var entryPrice: Double
    public var stopLossPrice: Double?
    public var profitTargetPrice: Double?
    /// Trailing stop distance in price units (ATR × multiple), nil for none.
    public var trailingDistance: Double?
    /// SPEC `position_weight_used` (nil for fixed-risk sizing).
    public var positionWeightUsed: Double?
    /// Who opens it (`opened_by`): `engine`, or the token subject of a manual entry.
    public var openedBy: String
    /// Open time (epoch ms) of the bar whose close priced a manual entry: recorded as the
    /// position's engine mark (`engine:position_marks`), so the engine's exits only look at later
    /// bars, never at the one the entry was priced from. nil for engine entries.
    public var pricedBarTime: Int64?

    /// Creates an open request.
    public init(
        signalID: Int64?, market: String, side: String, size: Double, entryPrice: Double,
        stopLossPrice: Double? = nil, profitTargetPrice: Double? = nil, trailingDistance: Double? = nil,
        positionWeightUsed: Double? = nil, openedBy: String = Ledger.engineActor, pricedBarTime: Int64? = nil
    ) {
        self.signalID = signalID; self.market = market; self.side = side; self.size = size
        self.entryPrice = entryPrice; self.stopLossPrice = stopLossPrice; self.profitTargetPrice = profitTargetPrice
        self.trailingDistance = trailingDistance; self.positionWeightUsed = positionWeightUsed
        self.openedBy = openedBy; self.pricedBarTime = pricedBarTime
    }

    var request: JSONObject {
        func n(_ d: Double?) -> JSONValue { d.map { .string(Money.text($0)) } ?? .null }
        return [
            "signal_id": signalID.map(JSONValue.int) ?? .null, "market": .string(market), "side": .string(side),
            "size": n(size), "entry_price": n(entryPrice), "stop_loss_price": n(stopLossPrice),
            "profit_target_price": n(profitTargetPrice), "trailing_distance": n(trailingDistance),
            "position_weight_used": n(positionWeightUsed), "opened_by": .string(openedBy),
            "priced_bar_ms": pricedBarTime.map(JSONValue.int) ?? .null,
        ]
    }
}
