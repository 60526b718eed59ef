import JSONCodec
import Synchronization

/// When a job's progress last went to its submitter's `user` topic (monotonic seconds): at most
/// one `job.progress` per job per second there, besides 0 and 1.
final class UserProgressThrottle: Sendable {
    private let last = Mutex<Double?>(nil)
    /// The least time between two progress events of one job.
    static let interval = 1.0

    /// True when a progress event may go out at `now` (and counts it as sent); `force` for 0 and 1.
    func admit(at now: Double, force: Bool) -> Bool {
        last.withLock { last in
            if !force, let sent = last, now - sent < Self.interval { return false }
            last = now
            return true
        }
    }
}

extension JobService {
    /// Posts `job.progress {task_id, kind, progress}` to the submitter's `user` topic, throttled
    /// by the job's `UserProgressThrottle` (`force` for 0 and 1). Never blocks the job (`post`).
    func announceProgress(_ job: Job, _ fraction: Double, force: Bool = false) {
        guard let users, job.userProgress.admit(at: clock.read().monotonic, force: force) else { return }
        users.post(
            sub: job.owner, eventType: "job.progress",
            fields: [
                "task_id": .string(job.id), "kind": .string(job.request.kind.rawValue),
                "progress": .double((fraction * 10_000).rounded() / 10_000),
            ])
    }

    /// Posts `job.completed {task_id, kind, status, error?}` (`error`: why it failed or stopped)
    /// to the submitter's `user` topic.
    func announceCompletion(_ job: Job, _ status: JobStatus, reason: String?) {
        guard let users else { return }
        var fields: JSONObject = [
            "task_id": .string(job.id), "kind": .string(job.request.kind.rawValue), "status": .string(status.rawValue),
        ]
        if let reason { fields["error"] = .string(reason) }
        users.post(sub: job.owner, eventType: "job.completed", fields: fields)
    }

    /// `job.completed` (FAILED, `interrupted`) for jobs whose gateway died, swept by this one.
    func announceInterrupted(_ jobs: [JobStore.SweptJob]) {
        guard let users else { return }
        for job in jobs where !job.owner.isEmpty {
            users.post(
                sub: job.owner, eventType: "job.completed",
                fields: [
                    "task_id": .string(job.id), "kind": .string(job.kind), "status": .string(JobStatus.failed.rawValue),
                    "error": "interrupted",
                ])
        }
    }
}
