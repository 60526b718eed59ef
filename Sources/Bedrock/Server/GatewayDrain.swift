import Foundation
import Logging
import Synchronization

/// What `bedrock serve` does on SIGTERM or SIGINT (docs/ops/DRAIN.md): every service loop drains
/// (`ServiceLoop+Drain`: `/ready` 503 at once, answers in flight sent, then 1001 to every socket)
/// while the jobs here get `server.drain_timeout_s` to finish (`JobService.finishOrStop`); the
/// process exits once both are done. A second signal interrupts the jobs at once.
final class GatewayDrain: Sendable {
    private struct State {
        var signals = 0
        var started: ContinuousClock.Instant?
    }

    private let timeout: Double
    private let gateway: Gateway
    private let jobs: JobService
    private let log: Logger
    private let state = Mutex(State())
    /// Signalled when the jobs are finished or stopped.
    private let jobsDone = DispatchSemaphore(value: 0)

    /// A drain of `gateway` and `jobs` within `timeout` seconds, logging to `log`.
    init(timeout: Double, gateway: Gateway, jobs: JobService, log: Logger) {
        self.timeout = timeout
        self.gateway = gateway
        self.jobs = jobs
        self.log = log
    }

    /// A termination signal arrived (the signal thread): start the drain, or, on the second,
    /// stop the jobs now.
    func signalled(_ signal: Int32) {
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        let count = state.withLock { state in
            state.signals += 1
            if state.started == nil { state.started = .now }
            return state.signals
        }
        guard count == 1 else {
            log.warning("bedrock: second \(name): interrupting the jobs still running")
            jobs.stop()
            return
        }
        log.info("bedrock: \(name) received: draining (connections closed with 1001, jobs get \(timeout) s)")
        gateway.shutdown(within: timeout)
        let thread = Thread { [self] in
            jobs.finishOrStop(within: timeout)
            jobsDone.signal()
        }
        thread.name = "bedrock-drain"
        thread.start()
    }

    /// After the loops ended (main thread): wait for the jobs' part of the drain.
    func waitForJobs() {
        guard let started = state.withLock({ $0.started }) else { return }
        log.info("bedrock: every connection closed \(Self.seconds(since: started)) after the signal")
        jobsDone.wait()
        log.info("bedrock: drained in \(Self.seconds(since: started))")
    }

    private static func seconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return String(format: "%.2f s", Double(ms) / 1000)
    }
}
