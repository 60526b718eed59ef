import Foundation
import Synchronization

/// The cancel flag and progress throttle of one job. The worker thread running the job calls
/// `advance(_:)` from the backtester's progress hook (every few thousand bars); any thread may
/// call `cancel(_:)`. Progress reaches `emit` when it enters a new 10 % band or 250 ms passed since
/// the last emission (SPEC §5: at least every 10 % or 250 ms): one in every 10 % band.
final class JobControl: @unchecked Sendable {
    /// Why a job stops early.
    enum Stop: Sendable, Equatable {
        /// A user's `backtest.cancel` → CANCELLED.
        case cancelled
        /// The gateway is shutting down → FAILED `interrupted`.
        case interrupted
    }

    // Sound: the mutable state sits in `state`; `emit` is set once before the job is queued and
    // only called from the worker thread that owns the job (inside `advance`).
    private struct State {
        var stop: Stop?
        var lastSent = -1.0
        var lastSentAt = DispatchTime(uptimeNanoseconds: 0)
        var completedUnits = 0
    }

    private let state = Mutex(State())
    /// Receives throttled progress; set once before the job is queued.
    var emit: (Double) -> Void = { _ in }

    /// Minimum progress step between emissions.
    static let step = 0.1
    /// Maximum time between emissions while progress moves.
    static let interval: UInt64 = 250_000_000

    /// Asks the job to stop; the first reason wins.
    func cancel(_ reason: Stop) {
        state.withLock { if $0.stop == nil { $0.stop = reason } }
    }

    /// Why the job was asked to stop, if it was.
    var stopReason: Stop? { state.withLock { $0.stop } }

    /// Reports overall progress (0...1); returns false once the job should stop.
    @discardableResult
    func advance(_ fraction: Double) -> Bool {
        let now = DispatchTime.now()
        // A frame in every 10 % band (crossing 0.1, 0.2, ... 1.0), and at least every 250 ms.
        let band = { (f: Double) in Int((f / JobControl.step + 1e-9).rounded(.down)) }
        let (stopped, send) = state.withLock { s -> (Bool, Bool) in
            guard s.stop == nil else { return (true, false) }
            guard fraction > s.lastSent,
                s.lastSent < 0 || band(fraction) > band(s.lastSent)
                    || now.uptimeNanoseconds - s.lastSentAt.uptimeNanoseconds >= JobControl.interval
            else { return (false, false) }
            s.lastSent = fraction
            s.lastSentAt = now
            return (false, true)
        }
        if send { emit(min(max(fraction, 0), 1)) }
        return !stopped
    }

    /// For optimisations: `units` finished evaluations out of `total`, plus the running one's
    /// own fraction, as one overall fraction.
    func advance(units done: Int?, of total: Int, inner: Double) -> Bool {
        let base = state.withLock { s -> Int in
            if let done { s.completedUnits = done }
            return s.completedUnits
        }
        guard total > 0 else { return advance(1) }
        return advance(min(1, (Double(base) + (done == nil ? inner : 0)) / Double(total)))
    }
}
