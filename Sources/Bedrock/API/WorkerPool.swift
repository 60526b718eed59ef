import DequeModule
import Foundation

/// A fixed set of worker threads running jobs in arrival order: where API handlers block on
/// Redis. libdispatch on Linux runs a concurrent queue on about one thread per core and adds
/// threads only when it notices them blocked, so blocking handlers got little concurrency in
/// bursts and unbounded threads (each holding a pooled Redis connection) in a long stall; a
/// fixed pool gives both a floor and a ceiling. Threads start on first use and live as long
/// as the process.
public final class WorkerPool: @unchecked Sendable {
    // Sound: `jobs` and `started` are only touched with `condition` locked.
    private var jobs = Deque<@Sendable () -> Void>()
    private var started = false
    private let condition = NSCondition()
    private let threads: Int
    private let name: String

    /// A pool of the configured default size for method tables outside `bedrock serve` (tests,
    /// tools); the server makes its own from `server.api_workers`.
    public static let shared = WorkerPool(threads: GatewayConfig.Server().apiWorkers, name: "bedrock-api")

    /// A pool of `threads` threads named `name-N`.
    public init(threads: Int, name: String) {
        precondition(threads > 0)
        self.threads = threads
        self.name = name
    }

    /// Threads in the pool: at most this many jobs run at once.
    public var size: Int { threads }

    /// Queue `job`; one of the threads runs it as soon as it is free.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        if !started { startThreads() }
        condition.signal()
        condition.unlock()
    }

    private func startThreads() {
        started = true
        for index in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.qualityOfService = .userInitiated
            thread.start()
        }
    }

    private func work() -> Never {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
