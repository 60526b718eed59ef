import GatewayCore
import JSONCodec
import Transport

/// Where the late answer of a worker-run API call goes.
enum AwaitedAnswer {
    /// The HTTP exchange with the call's serial number.
    case http
    /// The `request` frame `id` of the connection numbered `session`.
    case socket(session: UInt64, id: JSONValue)
}

/// The loop's watchdog over worker-run API calls: each is answered by its deadline
/// (`MethodTable.answerTime(for:)` after it was handed to the table: `callTimeout`, longer for a
/// method with an allowance such as an LLM call) — by the worker when it is in
/// time, else UNAVAILABLE from here, and then the worker's late answer is dropped. The alarm is
/// an lws timer armed for the earliest deadline, so no call waits for the next clock tick.
extension ServiceLoop {
    /// Wait for the worker's answer to call `serial` of `method` (nil: a download) until the
    /// table's answer time for it from now.
    func awaitAnswer(_ serial: UInt64, _ target: AwaitedAnswer, method: Method?) {
        let deadline = now() + methods.answerTime(for: method)
        awaited.add(serial, (target, method), deadline: deadline)
        if alarmAt.map({ deadline < $0 }) ?? true { armAlarm(at: deadline) }
    }

    /// The worker's answer to call `serial` arrived: its target when still waiting, nil when the
    /// watchdog already answered it (drop the late answer).
    func answerArrived(_ serial: UInt64) -> AwaitedAnswer? { awaited.answer(serial)?.target }

    /// The alarm fired: answer every call past its deadline, then arm for the next one.
    func alarm() {
        affinity.assertOnLoop("the answer watchdog")
        alarmAt = nil
        let overdue = awaited.expire(now: now())
        // Before the answers go out: a client told UNAVAILABLE finds new calls refused at once.
        if overdue.contains(where: { methods.blamesRedis($0.value.method) }) { methods.redisHealth?.suspect() }
        for (serial, call) in overdue { answerOverdue(serial, call.target, methods.timedOut(call.method)) }
        if let next = awaited.nextDeadline { armAlarm(at: next) }
    }

    private func armAlarm(at deadline: Double) {
        alarmAt = deadline
        server.setAlarm(afterSeconds: max(0.001, deadline - now()))
    }

    private func answerOverdue(_ serial: UInt64, _ target: AwaitedAnswer, _ error: APIError) {
        switch target {
        case .http:
            guard let exchange = pendingExchanges[serial], exchange.response == nil else { return }
            exchange.response = .error(error.code, error.message, requestID: exchange.requestID)
            exchange.wsi.requestWritable()
        case .socket(let session, let id):
            guard let connection = sessions[session] else { return }
            connection.inFlight -= 1
            enqueue(SharedFrame(json: connection.machine.errorFrame(error.code, error.message, id: id)), on: connection)
        }
    }
}
