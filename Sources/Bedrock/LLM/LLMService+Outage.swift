import JSONCodec
import LLMCore
import RedisClient

extension LLMService {
    /// Settles a call of `task`: counts it, updates the outage state and records the outage's
    /// start (`risk.alert` `LLM_UNAVAILABLE`) or end in Redis (`llm_alert.lua`; gateways on one
    /// Redis share the outage, so it is one alert however many notice it). A write Redis refuses
    /// is kept (at most `maxPendingOutageWrites`) and retried after the next call, so a blip of
    /// Redis during the outage's first failure does not lose its alert.
    func settle(_ task: LLMTask, _ result: Result<Void, LLMCallFailure>, redis: LazyRedisConnection?) {
        let event: OutageEvent? = work.locked { s, now in
            switch result {
            case .success: return s.outage.succeeded(task, at: now)
            case .failure(let f): return s.outage.failed(task, f.outcome, retryAfter: f.retryAfter, at: now)
            }
        }
        let write = outageWrite(event, result)
        let pending: [JSONObject] = work.locked { s, _ in
            if let write {
                s.outageWrites.append(write)
                if s.outageWrites.count > Self.maxPendingOutageWrites { s.outageWrites.removeFirst() }
            }
            defer { s.outageWrites.removeAll() }
            return s.outageWrites
        }
        switch result {
        case .success: metrics.count(task, .ok)
        case .failure(let f):
            metrics.count(task, f.outcome)
            // One line per outage at warning; each failed call only at debug, so an outage of hours
            // does not flood the log.
            log.debug(
                "llm: call failed",
                metadata: ["task": "\(task.rawValue)", "outcome": "\(f.outcome.rawValue)", "error": "\(f.message)"])
        }
        guard !pending.isEmpty else { return }
        let connection = redis ?? LazyRedisConnection(address: address)
        for (index, write) in pending.enumerated() {
            do {
                _ = try connection.with { c in try ledger.run("llm_alert", write, on: c) }
            } catch {
                log.error(
                    "llm: could not record the outage in Redis (retried after the next call)",
                    metadata: ["task": "llm_alert", "outcome": "redis_error", "error": "\(error)"])
                let unwritten = Array(pending[index...])
                work.locked { s, _ in
                    s.outageWrites.insert(contentsOf: unwritten, at: 0)
                    if s.outageWrites.count > Self.maxPendingOutageWrites {
                        s.outageWrites.removeFirst(s.outageWrites.count - Self.maxPendingOutageWrites)
                    }
                }
                return
            }
        }
    }

    /// Outage writes kept while Redis refuses them (the oldest go first).
    static let maxPendingOutageWrites = 4

    /// The `llm_alert.lua` request of an outage event (logged here), if any.
    private func outageWrite(_ event: OutageEvent?, _ result: Result<Void, LLMCallFailure>) -> JSONObject? {
        switch event {
        case .unavailable(let task, let outcome, _):
            guard case .failure(let f) = result else { return nil }
            let message = "the LLM failed (\(outcome.rawValue)) on a \(task.rawValue) call: \(f.message)"
            log.warning(
                "llm: model unavailable, falling back until it answers",
                metadata: ["task": "\(task.rawValue)", "outcome": "\(outcome.rawValue)", "error": "\(f.message)"])
            return ["task": .string(task.rawValue), "outcome": .string(outcome.rawValue), "message": .string(message)]
        case .recovered:
            log.info("llm: the model answers again")
            return ["recovered": true]
        case nil:
            return nil
        }
    }
}
