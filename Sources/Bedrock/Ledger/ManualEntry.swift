import JSONCodec
import TradingCore

/// A manual paper entry (`positions.open`): its parameters, read and checked, and its sizing and
/// risk check at a price on a ledger snapshot's basis. Pure (no Redis): `LedgerMethods.open`
/// supplies the price and the basis and writes the position.
///
/// Sizing is the estimate's (`Estimator.estimate`, as `positions.estimate` with
/// `suggested_position_weight` = `weight`, default 1); an explicit `size` replaces it and only
/// goes through the risk guard (the open script still refuses a size the available balance
/// cannot pay for).
struct ManualEntry: Equatable {
    /// Canonical market id.
    let market: String
    let side: Side
    /// Explicit size in base units, nil to size like an estimate.
    let size: Double?
    /// Weight in (0, 1] for estimate sizing (nil with an explicit size).
    let weight: Double?
    let stopLossPrice: Double
    let profitTargetPrice: Double?

    /// Size, weight used and the guard's refusals of an entry at a price.
    struct Plan: Equatable {
        var size: Double
        var positionWeightUsed: Double?
        var reasons: [RiskReason]
    }

    /// Reads `market`, `side`, `size` or `weight`, `stop_loss_price`, `profit_target_price`;
    /// BAD_REQUEST naming the field for anything missing or malformed.
    init(_ p: LedgerParams) throws(APIError) {
        guard let market = try p.market() else { throw APIError(.badRequest, "market is required") }
        guard let sideText = try p.string("side") else { throw APIError(.badRequest, "side is required (BUY or SELL)") }
        guard let side = Side(rawValue: sideText.uppercased()) else {
            throw APIError(.badRequest, "side must be BUY or SELL")
        }
        let size = try p.number("size")
        let weight = try p.number("weight")
        if size != nil && weight != nil { throw APIError(.badRequest, "size and weight: give one of them, not both") }
        if let size, !(size > 0) { throw APIError(.badRequest, "size must be greater than 0") }
        if let weight, !(weight > 0 && weight <= 1) {
            throw APIError(.badRequest, "weight must be greater than 0 and at most 1")
        }
        let stop = try p.positive("stop_loss_price")
        let target = try p.number("profit_target_price")
        if let target, !(target > 0) { throw APIError(.badRequest, "profit_target_price must be greater than 0") }
        self.market = market
        self.side = side
        self.size = size
        self.weight = size == nil ? (weight ?? 1) : nil
        self.stopLossPrice = stop
        self.profitTargetPrice = target
    }

    /// BAD_REQUEST when the stop (or the target) is not on its side of `price`: below it for a
    /// BUY (target above), above it for a SELL (target below).
    func checkLevels(price: Double) throws(APIError) {
        let text = Money.text(price)
        switch side {
        case .buy:
            guard stopLossPrice < price else {
                throw APIError(.badRequest, "stop_loss_price must be below the entry price \(text) for a BUY")
            }
            if let t = profitTargetPrice, !(t > price) {
                throw APIError(.badRequest, "profit_target_price must be above the entry price \(text) for a BUY")
            }
        case .sell:
            guard stopLossPrice > price else {
                throw APIError(.badRequest, "stop_loss_price must be above the entry price \(text) for a SELL")
            }
            if let t = profitTargetPrice, !(t < price) {
                throw APIError(.badRequest, "profit_target_price must be below the entry price \(text) for a SELL")
            }
        }
    }

    /// The entry at `price` on `basis`: sized like an estimate (or the explicit size) and checked
    /// by the risk guard; `reasons` is empty when the guard lets it through.
    func plan(price: Double, basis: EstimateBasis, settings: LedgerSettings) -> Plan {
        guard let size else {
            let e = Estimator.estimate(
                market: market, entryPrice: price, stopLossPrice: stopLossPrice, profitTargetPrice: profitTargetPrice,
                suggestedWeight: weight, account: basis.account, riskState: basis.risk, sizing: settings.sizing,
                risk: settings.risk, commissionRate: settings.commissionRate)
            return Plan(size: e.estimatedPositionSize, positionWeightUsed: e.positionWeightUsed, reasons: e.reasons)
        }
        let r = abs(price - stopLossPrice)
        let decision = RiskGuard.check(
            EntryProposal(
                market: market, notional: size * price,
                rewardRisk: profitTargetPrice.flatMap { r > 0 ? abs($0 - price) / r : nil }),
            state: basis.risk, config: settings.risk)
        return Plan(size: size, positionWeightUsed: nil, reasons: decision.reasons)
    }

    /// CONFLICT for a refused entry: the reasons in the message and as
    /// `details.reasons: [{code, message, ...}]`.
    static func refusal(_ reasons: [JSONObject]) -> APIError {
        let words = reasons.map { "\($0["code"]?.stringValue ?? "REFUSED"): \($0["message"]?.stringValue ?? "")" }
        return APIError(
            .conflict, "entry refused by the risk guard: " + words.joined(separator: "; "),
            details: ["reasons": .array(reasons.map(JSONValue.object))])
    }
}
