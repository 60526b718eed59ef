import JSONCodec
import RedisClient
import TradingCore

/// What became of an approved signal handed to `Ledger.enter`.
public enum EntryOutcome: Sendable, Equatable {
    /// A position was opened (`write.id` is the position id).
    case opened(LedgerWrite)
    /// The signal already has its position (a redelivery): nothing was written.
    case existing(positionID: Int64)
    /// The risk guard, sizing or the open script refused; `risk.alert` was written (once per signal).
    case refused([RiskReason])
}

extension Ledger {
    /// The live pipeline's entry step for an APPROVED signal already stored by `recordSignal`:
    /// risk guard and sizing (TradingCore's `Estimator`, on the real account and risk state),
    /// then `open_position`, or `risk_alert` with the reasons when it is refused. Safe to call
    /// again for the same signal (crash and redelivery): it answers `.existing` or repeats the
    /// refusal without a second event. A position on the master counts as opened even when too
    /// few replicas acknowledged it (`acceptingUnreplicated`): the engine does not retry it.
    /// - Parameter trailingDistance: ATR × multiple for the trailing stop, nil for none.
    public func enter(
        signalID: Int64, trailingDistance: Double? = nil, on connection: RedisConnection,
        nowMillis: Int64 = Timestamp.nowMillis()
    ) throws -> EntryOutcome {
        if let existing = try connection.command(["HGET", prefix + "positions:by_signal", String(signalID)]).checked().integer {
            return .existing(positionID: existing)
        }
        guard let signal = try record(.signal, id: signalID, on: connection),
            let market = signal["market"]?.stringValue, let side = signal["side"]?.stringValue,
            let entry = signal["entry_price"]?.doubleValue
        else {
            throw LedgerError.reply("no signal \(signalID) to enter")
        }
        let stop = signal["stop_loss_price"]?.doubleValue
        let snap = try snapshot(on: connection)
        let account = AccountSnapshot(
            balance: Double(Money.text(units: snap.units("balance"))) ?? 0,
            availableBalance: Double(Money.text(units: snap.units("balance") - snap.units("frozen"))) ?? 0)
        let estimate = Estimator.estimate(
            market: market, entryPrice: entry, stopLossPrice: stop ?? entry,
            profitTargetPrice: signal["profit_target_price"]?.doubleValue,
            suggestedWeight: signal["suggested_position_weight"]?.doubleValue,
            account: account, riskState: riskState(snap, nowMillis: nowMillis),
            sizing: settings.sizing, risk: settings.risk,
            commissionRate: settings.commissionRate)
        if !estimate.allowed {
            _ = try riskAlert(market: market, signalID: signalID, reasons: estimate.reasons, on: connection, nowMillis: nowMillis)
            return .refused(estimate.reasons)
        }
        // The engine's entry is done once on the master (see `acceptingUnreplicated`).
        let write = try acceptingUnreplicated {
            try openPosition(
                OpenInput(
                    signalID: signalID, market: market, side: side,
                    size: estimate.estimatedPositionSize, entryPrice: entry, stopLossPrice: stop,
                    profitTargetPrice: signal["profit_target_price"]?.doubleValue,
                    trailingDistance: trailingDistance,
                    positionWeightUsed: estimate.positionWeightUsed),
                on: connection, nowMillis: nowMillis)
        }
        switch write.status {
        case "opened": return .opened(write)
        case "existing": return .existing(positionID: write.id ?? 0)
        default:
            // Refused inside the script (a race with another gateway, or the balance moved).
            let code = write.reason.flatMap(RiskReasonCode.init(rawValue:)) ?? .zeroSize
            let reasons = [RiskReason(code: code, message: write.message ?? "refused by the ledger", value: 0, limit: 0)]
            _ = try riskAlert(market: market, signalID: signalID, reasons: reasons, on: connection, nowMillis: nowMillis)
            return .refused(reasons)
        }
    }
}
