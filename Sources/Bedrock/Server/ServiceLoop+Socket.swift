import Foundation
import GatewayCore
import JSONCodec
import Transport

/// WebSocket side of the loop: upgrade, frames in, actions out, the send queue and closing.
extension ServiceLoop {
    func confirmUpgrade(_ wsi: WSI) -> Int32 {
        let exchange = HTTPExchange(wsi: wsi, serial: 0, requestID: HTTPExchange.requestID(from: wsi))  // answered at once
        if let refusal = HTTPRequestCheck.headRefusal(wsi) { return reject(exchange, refusal.code, refusal.message) }
        guard wsi.header(.getURI) == "/ws" else {
            return reject(exchange, .notFound, "WebSocket endpoint is /ws")
        }
        if shuttingDown { return reject(exchange, .unavailable, "server shutting down") }
        if HTTPExchange.apiKey(wsi) != nil { return reject(exchange, .unauthenticated, ServiceLoop.socketRefusesAPIKeys) }
        var identity: Identity?
        if let token = HTTPExchange.bearerToken(wsi) ?? wsi.queryArguments().first(where: { $0.0 == "token" })?.1 {
            switch authenticate(token) {
            case .failure(let refusal): return reject(exchange, .unauthenticated, refusal.reason)
            case .success(let valid): identity = valid
            }
        }
        if let identity, !presence.admits(identity.subject) {
            metrics.connectionsRefused.add()
            return reject(exchange, .rateLimited, userLimitMessage(identity.subject))
        }
        let address = ConnectionBudget.normalized(wsi.peerAddress())
        if let refusal = budget.admit(authenticated: identity != nil, from: address, census.occupancy(of: address)) {
            metrics.connectionsRefused.add()
            return reject(exchange, .unavailable, refusal.message(budget))
        }
        if let identity { upgrades[wsi] = identity }
        return 0
    }

    /// Refuse the upgrade with an HTTP error, its access line written like any HTTP answer's
    /// (so the `request_id` of a refused token is in the log).
    private func reject(_ exchange: HTTPExchange, _ code: ErrorCode, _ message: String) -> Int32 {
        exchange.response = HTTPResponse.error(code, message, requestID: exchange.requestID)
        exchange.path = exchange.wsi.header(.getURI) ?? "/"
        let path = exchange.pathWithoutQuery
        if accessLog.wants(path) {
            accessLog.write(
                AccessEntry(
                    requestID: exchange.requestID, method: exchange.wsi.requestMethod, path: path,
                    status: code.httpStatus, micros: 0, subject: ""))
        }
        return exchange.writeResponse(corsOrigin: nil, upgradeRefusal: true) ? 1 : -1
    }

    func established(_ wsi: WSI) {
        let address = ConnectionBudget.normalized(wsi.peerAddress())
        let sessionNumber = census.opened(on: index, address: address)
        let identity = upgrades.removeValue(forKey: wsi)
        let reading = clock.read()
        let sessionID = String(format: "s%llx-%llx", UInt64(reading.wall * 1000), sessionNumber)
        let machine = SessionMachine(
            sessionID: sessionID, limits: limits, at: reading, identity: identity,
            authenticate: authenticate)
        nextSerial += 1
        let connection = Connection(
            wsi: wsi, serial: nextSerial, machine: machine, policy: outboundPolicy, address: address)
        connections[wsi] = connection
        sessions[connection.serial] = connection
        wsi.setUserData(Unmanaged.passUnretained(connection).toOpaque())  // cleared in `closed`
        metrics.connectionsOpened.add()
        if identity != nil { perform([.authenticated, .send(machine.welcome())], on: connection) }
        if shuttingDown { startDraining(connection) }  // upgraded just before the drain began
    }

    func receive(_ wsi: WSI, bytes: UnsafeRawBufferPointer, isFinal: Bool, isBinary: Bool) -> Int32 {
        guard let connection = connection(of: wsi), connection.outbound.closing == nil else { return 0 }
        if connection.partial.count + bytes.count > limits.maxFrameBytes {
            connection.partial = []
            let reason = "frame larger than \(limits.maxFrameBytes) bytes"
            logClose(connection, code: Int(CloseCode.tooLarge.rawValue), reason: reason, by: "server")
            wsi.setCloseReason(CloseCode.tooLarge.rawValue, reason)
            return -1
        }
        if isFinal && connection.partial.isEmpty {
            handleMessage(bytes, binary: isBinary, on: connection)
        } else {
            connection.partial.append(contentsOf: bytes)
            if isFinal {
                let message = connection.partial
                connection.partial = []
                message.withUnsafeBytes { handleMessage($0, binary: isBinary, on: connection) }
            }
        }
        return 0
    }

    private func handleMessage(_ bytes: UnsafeRawBufferPointer, binary: Bool, on connection: Connection) {
        metrics.messagesIn.add()
        if binary {
            perform([.send(connection.machine.errorFrame(.badRequest, "frames are JSON text, not binary"))], on: connection)
            return
        }
        let role = connection.machine.identity?.role
        perform(connection.machine.receive(bytes, at: clock.read()), on: connection)
        if connection.counted, let now = connection.machine.identity?.role, now != role {
            presence.reauthenticated(presenceKey(connection), role: now)  // a refresh changed the role
        }
    }

    /// Carry out what the session machine asked for.
    func perform(_ actions: [SessionAction], on connection: Connection) {
        affinity.assertOnLoop("a session's actions")
        for action in actions {
            switch action {
            case .send(let frame):
                enqueue(SharedFrame(json: frame), on: connection)
            case .close(let code, let reason):
                requestClose(connection, code, reason, linger: code == .rateLimited ? ServiceLoop.floodLinger : 0)
                return
            case .authenticated:
                guard !connection.counted else { break }
                guard enterPresence(connection) else { return }
                guard census.authenticatedOne(limit: budget.maxAuthenticated) else {
                    metrics.connectionsRefused.add()
                    presence.closed(presenceKey(connection))
                    requestClose(connection, .atCapacity, ConnectionBudget.Refusal.authenticatedFull.message(budget))
                    return
                }
                connection.counted = true
            case .subscribe(let id, let topic, let since):
                guard !connection.draining else { break }  // it resumes with `since` on another gateway
                subscribe(connection, id: id, topic: topic.name, since: since)
            case .unsubscribe(_, let topic):
                unsubscribe(connection, topic: topic.name)
            case .request(let id, let method, let params):
                call(method, id: id, params: params, on: connection)
            }
        }
    }

    /// Run a method of the table and answer with `response` or `error`: at once when the table
    /// can (refusals, fast paths), else when its worker is done — if the connection is still open.
    private func call(_ method: Method, id: JSONValue, params: JSONObject, on connection: Connection) {
        guard let identity = connection.machine.identity else { return }
        let serial = connection.serial
        metrics.request(method)
        let push: @Sendable (JSONValue) -> Void = { [self] frame in
            respondLater(toSession: serial) { [self] connection in enqueue(SharedFrame(json: frame), on: connection) }
        }
        let methodCall = MethodCall(subject: identity.subject, role: identity.role, params: params, push: push)
        nextSerial += 1
        let callSerial = nextSerial
        let answerNow = methods.invoke(method, methodCall) { [self] result in
            post { [self] in
                // Dropped when the watchdog answered it at its deadline, or the connection closed.
                guard answerArrived(callSerial) != nil, let connection = sessions[serial] else { return }
                connection.inFlight -= 1
                answer(id, result, on: connection)
            }
        }
        if let answerNow {
            answer(id, answerNow, on: connection)
        } else {
            connection.inFlight += 1
            awaitAnswer(callSerial, .socket(session: serial, id: id), method: method)
        }
    }

    private func answer(_ id: JSONValue, _ result: Result<JSONValue, APIError>, on connection: Connection) {
        switch result {
        case .success(let value):
            enqueue(SharedFrame(json: ["type": "response", "id": id, "result": value]), on: connection)
        case .failure(let error):
            enqueue(
                SharedFrame(json: connection.machine.errorFrame(error.code, error.message, id: id, details: error.details)),
                on: connection)
        }
    }

    /// Run `body` on the loop with the connection numbered `serial`, if it is still open (any
    /// thread). The one way late answers reach a socket: a connection that closed meanwhile gets
    /// nothing, and a later connection never gets what was meant for an earlier one.
    func respondLater(toSession serial: UInt64, _ body: @escaping @Sendable (Connection) -> Void) {
        post { [self] in
            guard let connection = sessions[serial] else { return }
            body(connection)
        }
    }

    /// Append a frame to the connection's queue and carry out the queue's decision (SPEC §5
    /// slow-consumer policy, `OutboundQueue`). `staging` (fan-out only): an idle connection is
    /// listed in `staged` and written once the whole bridge batch is queued (`flushStaged`).
    func enqueue(_ frame: SharedFrame, on connection: Connection, staging: Bool = false) {
        affinity.assertOnLoop("a send queue")
        switch connection.outbound.enqueue(frame, staging: staging) {
        case .queued, .dropped:
            break
        case .armWritable:
            connection.wsi.requestWritable()
        case .stage:
            staged.append(connection)
        case .overflow:
            metrics.slowConsumerDisconnects.add()
            requestClose(connection, .rateLimited, "lagged: send queue full")
        }
    }

    /// After the inbox jobs of one wake-up (fan-out of one or more bridge batches): write each
    /// staged connection's queue at once (one frame, or a batch when several events came)
    /// instead of waiting for a writable callback — an idle connection gets its frame without
    /// another trip through the event loop. The write is the one the writable callback would
    /// make, and only when that callback would come at once (not choked); a backlogged
    /// connection waits for it as before and gets batches.
    func flushStaged() {
        for connection in staged {
            switch connection.outbound.unstage(choked: connection.wsi.isChoked) {
            case .skip:
                continue
            case .writeNow:
                if connection.outbound.wroteDirectly(ok: writeNext(connection)) { connection.wsi.requestWritable() }
            case .armWritable:
                connection.wsi.requestWritable()
            }
        }
        staged.removeAll(keepingCapacity: true)
    }

    /// Seconds a rate-limited client's input is read and dropped before its close frame goes out.
    static let floodLinger = 0.5

    /// The slow-consumer policy on a clock tick: warn a client that stays behind, cut off one
    /// that does not catch up.
    func checkLag(_ connection: Connection, now: Double) {
        switch connection.outbound.checkLag(now: now) {
        case .fine:
            break
        case .warn(let waiting):
            let warning = connection.machine.errorFrame(
                .rateLimited, "lagged: \(waiting) frames waiting; read faster or be disconnected")
            connection.outbound.appendWarning(SharedFrame(json: warning))
        case .cut:
            metrics.slowConsumerDisconnects.add()
            let seconds = Int(connection.outbound.policy.closeAfter)
            requestClose(connection, .rateLimited, "lagged: could not keep up for \(seconds) s")
        }
    }

    /// Close at the next writable callback with this code (not before `linger` seconds).
    func requestClose(_ connection: Connection, _ code: CloseCode, _ reason: String, linger: Double = 0) {
        guard connection.outbound.beginClose(code, reason, notBefore: linger > 0 ? now() + linger : 0) else { return }
        connection.wsi.killAfter(seconds: Int(linger.rounded(.up)) + 3)  // a choked socket never gets writable
        metrics.close(code)
        logClose(connection, code: Int(code.rawValue), reason: reason, by: "server")
        connection.wsi.requestWritable()
    }

    /// The connection's one `ws close` line (SPEC §13): who closed it (`server` or `client`),
    /// the code and the reason.
    private func logClose(_ connection: Connection, code: Int, reason: String, by: String) {
        guard !connection.closeLogged else { return }
        connection.closeLogged = true
        guard log.logLevel <= .info else { return }
        log.info(
            "ws close",
            metadata: [
                "session_id": .string(connection.machine.sessionID),
                "sub": .string(connection.machine.identity?.subject ?? ""),
                "code": .stringConvertible(code), "reason": .string(reason), "by": .string(by),
            ])
    }

    /// The peer sent a close frame: kept for the connection's `ws close` line.
    func peerClosing(_ wsi: WSI, code: Int, reason: String) {
        connection(of: wsi)?.peerClose = (code, String(reason.prefix(123)))
    }

    /// The open connection of `wsi`, through the pointer `established` stored with it (the
    /// `connections` dictionary keeps the object alive until `closed`, which clears the pointer).
    func connection(of wsi: WSI) -> Connection? {
        guard let pointer = wsi.userData else { return nil }
        return Unmanaged<Connection>.fromOpaque(pointer).takeUnretainedValue()
    }

    func writable(_ wsi: WSI) -> Int32 {
        guard let connection = connection(of: wsi) else { return 0 }
        switch connection.outbound.writable(now: now()) {
        case .nothing:
            closeIfDrained(connection)
            return 0
        case .waitForLinger:  // the tick re-arms a lingering close
            return 0
        case .hangUp:
            return -1
        case .lastWords:  // e.g. the RATE_LIMITED error: one write, then the close
            let sent = writeNext(connection)
            connection.outbound.dropAll()
            wsi.requestWritable()
            return sent ? 0 : -1
        case .close(let code, let reason):
            wsi.setCloseReason(code.rawValue, reason)
            return -1
        case .write:
            if !writeNext(connection) { return -1 }
            if connection.outbound.wrote() {
                wsi.requestWritable()
            } else {
                closeIfDrained(connection)
            }
            return 0
        }
    }

    /// One write from the head of the queue: the first frame alone (straight from its shared
    /// buffer) or several in one batch (SPEC §5 batching, `\n` between frames). False when the
    /// transport failed.
    private func writeNext(_ connection: Connection) -> Bool {
        switch connection.outbound.nextWrite() {
        case .none:
            return true
        case .single(let frame):
            metrics.framesOut += 1
            metrics.eventsOut += 1
            return connection.wsi.writeText(frame.storage, payloadLength: frame.count)
        case .batch:
            let base = batchBuffer.advanced(by: WSI.headroom)
            let (taken, length) = connection.outbound.takeBatch { frame, offset in
                if offset > 0 { base.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: offset - 1, as: UInt8.self) }
                base.advanced(by: offset).copyMemory(from: frame.storage.advanced(by: WSI.headroom), byteCount: frame.count)
            }
            metrics.framesOut += 1
            metrics.eventsOut += taken
            return connection.wsi.writeText(batchBuffer, payloadLength: length)
        }
    }

    func closed(_ wsi: WSI) {
        upgrades[wsi] = nil
        closedUpgrades[wsi] = nil
        wsi.setUserData(nil)
        guard let connection = connections.removeValue(forKey: wsi) else { return }
        sessions[connection.serial] = nil
        // A close the gateway did not start: the client's close frame, or 1006 when none came.
        let peer = connection.peerClose ?? (code: 1006, reason: "connection lost")
        logClose(connection, code: peer.code, reason: peer.reason, by: "client")
        census.closed(on: index, wasAuthenticated: connection.counted, address: connection.address)
        presence.closed(presenceKey(connection))
        for topic in connection.machine.subscriptions { unsubscribe(connection, topic: topic) }
        connection.outbound.dropAll()
        stopIfDrained()
    }
}
