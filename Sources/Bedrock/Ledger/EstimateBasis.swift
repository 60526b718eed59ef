import Foundation
import TradingCore

/// What an estimate needs from a ledger snapshot (the account view and the risk guard's state),
/// derived once per snapshot and UTC day instead of once per request: deriving parses decimal
/// texts and formats a date, which costs more than the estimate itself.
struct EstimateBasis: Sendable {
    let account: AccountSnapshot
    let risk: RiskState

    init(_ snap: Ledger.Snapshot, ledger: Ledger, nowMillis: Int64 = Timestamp.nowMillis()) {
        account = AccountSnapshot(balance: Double(Money.text(units: snap.units("balance"))) ?? 0,
                                  availableBalance: Double(Money.text(units: snap.units("balance") - snap.units("frozen"))) ?? 0)
        risk = ledger.riskState(snap, nowMillis: nowMillis)
    }
}

/// The basis of the newest snapshot seen, keyed by the snapshot's version and the UTC day
/// (the risk state's start-of-day equity depends on it). Any thread; a lock guards the one entry.
final class EstimateBasisMemo: @unchecked Sendable {
    // Sound: `entry` is only touched while holding `lock`.
    private let lock = NSLock()
    private var entry: (version: UInt64, day: Int64, basis: EstimateBasis)?

    /// The basis of `snap` (`SnapshotCache` version `version`), derived at most once per
    /// snapshot and day.
    func basis(_ snap: Ledger.Snapshot, version: UInt64, ledger: Ledger) -> EstimateBasis {
        let now = Timestamp.nowMillis()
        let day = now / 86_400_000
        lock.lock()
        if let entry, entry.version == version, entry.day == day { lock.unlock(); return entry.basis }
        lock.unlock()
        let fresh = EstimateBasis(snap, ledger: ledger, nowMillis: now)
        lock.lock()
        entry = (version, day, fresh)
        lock.unlock()
        return fresh
    }
}
