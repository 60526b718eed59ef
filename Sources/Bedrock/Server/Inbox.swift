import Synchronization

/// The one way other threads reach the service thread: they append a job here and wake the
/// loop (`lws_cancel_service`); the loop drains and runs the jobs in order.
final class Inbox: Sendable {
    private let jobs = Mutex<[@Sendable () -> Void]>([])

    /// Append a job (any thread). Returns true when the inbox was empty, i.e. a wake-up is needed.
    func post(_ job: @escaping @Sendable () -> Void) -> Bool {
        jobs.withLock {
            $0.append(job)
            return $0.count == 1
        }
    }

    /// Take every job posted so far (service thread).
    func drain() -> [@Sendable () -> Void] {
        jobs.withLock {
            let taken = $0
            $0.removeAll(keepingCapacity: true)
            return taken
        }
    }
}
