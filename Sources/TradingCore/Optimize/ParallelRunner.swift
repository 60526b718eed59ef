import Dispatch
import Foundation

/// Progress of an optimisation, passed to the caller's hook after every finished evaluation.
public struct OptimizationProgress: Sendable, Equatable {
    /// Evaluations finished so far.
    public var completed: Int
    /// Evaluations in the whole job (for walk-forward: every fold's searches and checks).
    public var total: Int
    /// completed / total, 0...1.
    public var fraction: Double { total == 0 ? 1 : Double(completed) / Double(total) }
}

/// Options shared by every optimiser entry point.
public struct OptimizationOptions: Sendable {
    /// Worker threads; 1 runs everything on the calling thread. Results do not depend on it.
    public var threads: Int
    /// Called after each evaluation, from one thread at a time (calls never overlap). Return
    /// `false` to cancel: no new evaluation starts (those already running finish) and the
    /// entry point throws `OptimizationError.cancelled`. Use it for progress bars and job
    /// cancellation.
    public var progress: @Sendable (OptimizationProgress) -> Bool

    /// Options with `threads` workers (default: every active core) and an optional hook.
    public init(
        threads: Int = OptimizationOptions.defaultThreads,
        progress: @escaping @Sendable (OptimizationProgress) -> Bool = { _ in true }
    ) {
        self.threads = max(1, threads)
        self.progress = progress
    }

    /// The number of active processor cores.
    public static var defaultThreads: Int { ProcessInfo.processInfo.activeProcessorCount }
}

/// Why an optimisation produced no ranking.
public enum OptimizationError: Error, Equatable, CustomStringConvertible {
    /// The progress hook returned false after `completed` evaluations.
    case cancelled(completed: Int)
    /// Every parameter set failed; `firstError` is the first failure's message.
    case allFailed(firstError: String)
    /// The search produced no parameter set to try.
    case noCandidates
    /// Walk-forward folds cannot be laid out (`reason` says why).
    case badFolds(String)

    /// One line for the user.
    public var description: String {
        switch self {
        case let .cancelled(n): return "optimisation cancelled after \(n) evaluations"
        case let .allFailed(e): return "every parameter set failed; first error: \(e)"
        case .noCandidates: return "no parameter sets to evaluate"
        case let .badFolds(reason): return "walk-forward: \(reason)"
        }
    }
}

/// Runs independent jobs on a fixed number of threads and returns results in job order, so the
/// output is the same whatever the thread count. Jobs are handed out one at a time from a shared
/// counter, so a slow job does not hold up a whole slice.
final class ParallelRunner: @unchecked Sendable {
    // All mutable state below is guarded by `lock`; it is shared by the worker threads of one
    // `map` call and by consecutive calls of one optimisation (progress counts add up).
    private let lock = NSLock()
    private let options: OptimizationOptions
    private let total: Int
    private var completed = 0
    private var cancelled = false

    init(options: OptimizationOptions, totalJobs: Int) {
        self.options = options
        self.total = totalJobs
    }

    /// `body(i)` for every `i` in `0..<count`, results in index order.
    /// - Throws: `OptimizationError.cancelled` when the hook asked to stop.
    func map<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) throws -> [T] {
        let slots = ResultSlots<T>(count: count)
        let work: @Sendable () -> Void = { [self] in
            while true {
                lock.lock()
                if cancelled || slots.next >= count { lock.unlock(); return }
                let i = slots.next
                slots.next += 1
                lock.unlock()
                let value = body(i)
                lock.lock()
                slots.values[i] = value
                completed += 1
                if !options.progress(OptimizationProgress(completed: completed, total: total)) {
                    cancelled = true
                }
                lock.unlock()
            }
        }
        let threads = min(options.threads, max(count, 1))
        if threads == 1 {
            work()
        } else {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in work() }
        }
        lock.lock()
        defer { lock.unlock() }
        if cancelled { throw OptimizationError.cancelled(completed: completed) }
        return slots.values.map { $0! }
    }
}

/// Result storage written by several threads, each slot by exactly one job, under the runner's
/// lock.
private final class ResultSlots<T>: @unchecked Sendable {
    var values: [T?]
    /// The next job index to hand out.
    var next = 0
    init(count: Int) { values = [T?](repeating: nil, count: count) }
}
