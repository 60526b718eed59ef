import JSONCodec
import RedisClient
import TradingCore

extension LedgerMethods {
    /// `positions.open`: a manual paper entry (`ManualEntry`) at the market's latest price
    /// (`Ledger.lastBar`; CONFLICT naming the market when none is known), sized like an
    /// estimate and checked by the risk guard on a fresh snapshot, then written by `open_position`
    /// with `opened_by` = `subject` and no signal. A refusal (by the guard, or by the script,
    /// which re-checks the kill switch, the open limits and the balance atomically) is CONFLICT
    /// with `details.reasons` and opens nothing; a refusal by the guard appends `risk.alert`
    /// `ENTRY_REFUSED` (SPEC §8: each breach emits one). Answers the stored position.
    static func open(_ p: LedgerParams, by subject: String, ledger: Ledger, on c: RedisConnection) throws -> JSONValue {
        let entry = try ManualEntry(p)
        guard let (price, barTime) = try ledger.lastBar(market: entry.market, on: c) else {
            throw APIError(.conflict, "market \(entry.market) has no known price (no bar received yet)")
        }
        try entry.checkLevels(price: price)
        let plan = entry.plan(
            price: price, basis: EstimateBasis(try ledger.snapshot(on: c), ledger: ledger), settings: ledger.settings)
        guard plan.reasons.isEmpty else {
            // SPEC §8: each breach emits risk.alert, a manual entry's as an engine's.
            _ = try ledger.riskAlert(market: entry.market, signalID: nil, reasons: plan.reasons, on: c)
            throw ManualEntry.refusal(plan.reasons.compactMap { $0.json.objectValue })
        }
        let write = try ledger.openPosition(
            OpenInput(
                signalID: nil, market: entry.market, side: entry.side.rawValue, size: plan.size, entryPrice: price,
                stopLossPrice: entry.stopLossPrice, profitTargetPrice: entry.profitTargetPrice,
                positionWeightUsed: plan.positionWeightUsed, openedBy: subject, pricedBarTime: barTime),
            on: c)
        switch write.status {
        case "opened": break
        case "refused":
            throw ManualEntry.refusal([
                ["code": .string(write.reason ?? "REFUSED"), "message": .string(write.message ?? "refused by the ledger")]
            ])
        default: throw LedgerError.reply("open_position answered \(write.reply)")
        }
        guard let id = write.id, let position = try ledger.record(.position, id: id, on: c) else {
            throw LedgerError.reply("open_position answered \(write.reply) but the position is not stored")
        }
        return .object(position)
    }
}
