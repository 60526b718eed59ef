import Foundation

/// The one way other threads reach the service thread: they append a job here and wake the
/// loop (`lws_cancel_service`); the loop drains and runs the jobs in order.
final class Inbox: @unchecked Sendable {
    // Sound: `jobs` is only touched while holding `lock`.
    private let lock = NSLock()
    private var jobs: [@Sendable () -> Void] = []

    /// Append a job (any thread). Returns true when the inbox was empty, i.e. a wake-up is needed.
    func post(_ job: @escaping @Sendable () -> Void) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        jobs.append(job)
        return jobs.count == 1
    }

    /// Take every job posted so far (service thread).
    func drain() -> [@Sendable () -> Void] {
        lock.lock()
        defer { lock.unlock() }
        let taken = jobs
        jobs.removeAll(keepingCapacity: true)
        return taken
    }
}
