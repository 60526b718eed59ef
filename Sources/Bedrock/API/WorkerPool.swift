import DequeModule
import Foundation

/// A fixed set of worker threads running jobs in arrival order: where work that blocks (Redis
/// round trips of API methods and replays, the snapshot refresh) runs, never on an event loop.
/// libdispatch on Linux runs a concurrent queue on about one thread per core and adds threads only
/// when it notices them blocked, so blocking handlers got little concurrency in bursts and
/// unbounded threads (each holding a pooled Redis connection) in a long stall; a fixed pool gives
/// both a floor and a ceiling. Threads start on first use; they finish the queued jobs and end
/// once the pool is released.
public final class WorkerPool: Sendable {
    private let queue: JobQueue
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
        queue = JobQueue()
    }

    deinit { queue.close() }

    /// Threads in the pool: at most this many jobs run at once.
    public var size: Int { threads }

    /// Queue `job`; one of the threads runs it as soon as it is free.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        if queue.append(job) { startThreads() }
    }

    private func startThreads() {
        for index in 0..<threads {
            let thread = Thread { [queue] in
                while let job = queue.next() { job() }
            }
            thread.name = "\(name)-\(index)"
            thread.qualityOfService = .userInitiated
            thread.start()
        }
    }
}

/// The jobs of one `WorkerPool`, shared by its threads (not by the pool object, so releasing the
/// pool lets them end).
private final class JobQueue: @unchecked Sendable {
    // Sound: `jobs`, `started` and `closed` are only touched with `condition` locked.
    private var jobs = Deque<@Sendable () -> Void>()
    private var started = false
    private var closed = false
    private let condition = NSCondition()

    /// Queue `job`. True the first time: the caller starts the threads.
    func append(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        jobs.append(job)
        condition.signal()
        guard !started else { return false }
        started = true
        return true
    }

    /// The next job, waiting for one; nil once the pool is gone and nothing is left.
    func next() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !closed { condition.wait() }
        return jobs.isEmpty ? nil : jobs.removeFirst()
    }

    /// No more jobs will come: threads end once the queue is empty.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
