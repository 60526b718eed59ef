import Foundation
import Synchronization
import TradingCore

/// What an estimate needs from a ledger snapshot (the account view and the risk guard's state),
/// derived once per snapshot and UTC day instead of once per request: deriving parses decimal
/// texts and formats a date, which costs more than the estimate itself.
struct EstimateBasis: Sendable {
    let account: AccountSnapshot
    let risk: RiskState

    init(account: AccountSnapshot, risk: RiskState) {
        self.account = account
        self.risk = risk
    }

    init(_ snap: Ledger.Snapshot, ledger: Ledger, nowMillis: Int64 = Timestamp.nowMillis()) {
        account = AccountSnapshot(
            balance: Double(Money.text(units: snap.units("balance"))) ?? 0,
            availableBalance: Double(Money.text(units: snap.units("balance") - snap.units("frozen"))) ?? 0)
        risk = ledger.riskState(snap, nowMillis: nowMillis)
    }
}

/// The basis of the newest snapshot seen, keyed by the snapshot's version and the UTC day
/// (the risk state's start-of-day equity depends on it). Any thread; a `Mutex` guards the one entry.
final class EstimateBasisMemo: Sendable {
    private let entry = Mutex<(version: UInt64, day: Int64, basis: EstimateBasis)?>(nil)

    /// The basis of `snap` (`SnapshotCache` version `version`), derived at most once per
    /// snapshot and day.
    func basis(_ snap: Ledger.Snapshot, version: UInt64, ledger: Ledger) -> EstimateBasis {
        let now = Timestamp.nowMillis()
        let day = now / 86_400_000
        if let known = entry.withLock({ $0 }), known.version == version, known.day == day { return known.basis }
        let fresh = EstimateBasis(snap, ledger: ledger, nowMillis: now)
        entry.withLock { $0 = (version, day, fresh) }
        return fresh
    }
}
