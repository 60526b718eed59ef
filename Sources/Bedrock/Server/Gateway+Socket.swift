import Foundation
import Transport

/// WebSocket side of the loop: upgrade, frames in, actions out, the send queue and closing.
extension Gateway {
    func confirmUpgrade(_ wsi: WSI) -> Int32 {
        let exchange = HTTPExchange(wsi: wsi, requestID: HTTPExchange.requestID(from: wsi))
        guard wsi.header(.getURI) == "/ws" else {
            return reject(exchange, .notFound, "WebSocket endpoint is /ws")
        }
        if shuttingDown { return reject(exchange, .unavailable, "server shutting down") }
        if census.totalOpen >= options.maxConnections {
            metrics.count("bedrock_connections_refused_total")
            return reject(exchange, .unavailable, "server at its connection limit (\(options.maxConnections))")
        }
        if let token = HTTPExchange.bearerToken(wsi) ?? wsi.queryArguments().first(where: { $0.0 == "token" })?.1 {
            switch authenticate(token) {
            case .failure(let refusal): return reject(exchange, .unauthenticated, refusal.reason)
            case .success(let identity): upgrades[wsi] = identity
            }
        }
        return 0
    }

    private func reject(_ exchange: HTTPExchange, _ code: ErrorCode, _ message: String) -> Int32 {
        exchange.response = HTTPResponse.error(code, message, requestID: exchange.requestID)
        return exchange.writeResponse(corsOrigin: nil, upgradeRefusal: true) ? 1 : -1
    }

    func established(_ wsi: WSI) {
        let sessionNumber = census.opened(on: index)
        let identity = upgrades.removeValue(forKey: wsi)
        let sessionID = String(format: "s%llx-%llx", UInt64(now() * 1000), sessionNumber)
        let machine = SessionMachine(sessionID: sessionID, limits: limits, now: now(), identity: identity,
                                     authenticate: authenticate)
        let connection = Connection(wsi: wsi, machine: machine)
        connections[wsi] = connection
        wsi.setUserData(Unmanaged.passUnretained(connection).toOpaque())  // cleared in `closed`
        metrics.count("bedrock_ws_connections_opened_total")
        if identity != nil { perform([.authenticated, .send(machine.welcome())], on: connection) }
    }

    func receive(_ wsi: WSI, bytes: UnsafeRawBufferPointer, isFinal: Bool, isBinary: Bool) -> Int32 {
        guard let connection = connection(of: wsi), connection.pendingClose == nil else { return 0 }
        if connection.partial.count + bytes.count > limits.maxFrameBytes {
            connection.partial = []
            wsi.setCloseReason(CloseCode.tooLarge.rawValue, "frame larger than \(limits.maxFrameBytes) bytes")
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
        metrics.count("bedrock_ws_messages_in_total")
        if binary {
            perform([.send(connection.machine.errorFrame(.badRequest, "frames are JSON text, not binary"))], on: connection)
            return
        }
        perform(connection.machine.receive(bytes, now: now()), on: connection)
    }

    /// Carry out what the session machine asked for.
    func perform(_ actions: [SessionAction], on connection: Connection) {
        for action in actions {
            switch action {
            case .send(let frame):
                enqueue(SharedFrame(json: frame), on: connection)
            case .close(let code, let reason):
                requestClose(connection, code, reason, linger: code == .rateLimited ? Gateway.floodLinger : 0)
                return
            case .authenticated:
                if !connection.counted { connection.counted = true; census.authenticatedOne() }
            case .subscribe(let id, let topic, let since):
                subscribe(connection, id: id, topic: topic.name, since: since)
            case .unsubscribe(_, let topic):
                unsubscribe(connection, topic: topic.name)
            case .request(let id, let method, let params):
                call(method, id: id, params: params, on: connection)
            }
        }
    }

    /// Run a method of the table off the loop and answer with `response` or `error`.
    private func call(_ method: Method, id: JSONValue, params: JSONObject, on connection: Connection) {
        guard let identity = connection.machine.identity else { return }
        let wsi = connection.wsi
        let identityOfConnection = ObjectIdentifier(connection)
        metrics.count("bedrock_ws_requests_total", labels: "method=\"\(method.rawValue)\"")
        let push: @Sendable (JSONValue) -> Void = { [self] frame in
            post { [self] in
                guard let current = connections[wsi], ObjectIdentifier(current) == identityOfConnection else { return }
                enqueue(SharedFrame(json: frame), on: current)
            }
        }
        let methodCall = MethodCall(subject: identity.subject, role: identity.role, params: params, push: push)
        if let answer = methods.answerInline(method, methodCall) {  // e.g. an estimate on a fresh snapshot
            switch answer {
            case .success(let value):
                enqueue(SharedFrame(json: ["type": "response", "id": id, "result": value]), on: connection)
            case .failure(let error):
                enqueue(SharedFrame(json: connection.machine.errorFrame(error.code, error.message, id: id)), on: connection)
            }
            return
        }
        methods.dispatch(method, methodCall) { [self] result in
            let box = UncheckedBox(result)
            post { [self] in
                guard let current = connections[wsi], ObjectIdentifier(current) == identityOfConnection else { return }
                switch box.value {
                case .success(let value):
                    enqueue(SharedFrame(json: ["type": "response", "id": id, "result": value]), on: current)
                case .failure(let error):
                    enqueue(SharedFrame(json: current.machine.errorFrame(error.code, error.message, id: id)), on: current)
                }
            }
        }
    }

    /// Append a frame to the connection's queue. Memory stays bounded: past
    /// `lagHardFactor × send_queue_max` frames (plus room for a replay) the connection is closed
    /// with 4429 at once; the softer, time-based part of the slow-consumer policy is `checkLag`.
    /// `staging` (fan-out only): an idle connection is not armed for a writable callback but
    /// listed in `staged`, and `flushStaged` writes to it once the whole bridge batch is queued.
    func enqueue(_ frame: SharedFrame, on connection: Connection, staging: Bool = false) {
        guard connection.pendingClose == nil else { return }
        if connection.queue.count >= hardQueueLimit + connection.replayAllowance {
            metrics.count("bedrock_slow_consumer_disconnects_total")
            connection.queue.removeAll()
            requestClose(connection, .rateLimited, "lagged: send queue full")
            return
        }
        connection.queue.append(frame)
        if connection.writeRequested || connection.staged { return }
        if staging {
            connection.staged = true
            staged.append(connection)
            return
        }
        connection.writeRequested = true
        connection.wsi.requestWritable()
    }

    /// After the inbox jobs of one wake-up (fan-out of one or more bridge batches): write each
    /// staged connection's queue at once (one frame, or a batch when several events came)
    /// instead of waiting for a writable callback — an idle connection gets its frame without
    /// another trip through the event loop. The write is the one the writable callback would
    /// make, and only when that callback would come at once (`isChoked` false); a backlogged
    /// connection waits for it as before and gets batches. A batch larger than one frame allows,
    /// or a failed write, goes on in the writable callback.
    func flushStaged() {
        for connection in staged {
            connection.staged = false
            guard connection.pendingClose == nil, !connection.writeRequested, !connection.queue.isEmpty else { continue }
            if !connection.wsi.isChoked {
                if !writeNext(connection) { connection.writeFailed = true }
                if connection.queue.isEmpty && !connection.writeFailed { continue }
            }
            connection.writeRequested = true
            connection.wsi.requestWritable()
        }
        staged.removeAll(keepingCapacity: true)
    }

    /// Frames a connection may hold before it is cut off at once: 4 × `send_queue_max`, and never
    /// less than two reads of the bridge (so one burst alone cannot cut off a healthy client).
    /// Frames are shared between subscribers, so this bounds references, not copies.
    var hardQueueLimit: Int { max(limits.sendQueueMax * 4, 4096) }
    /// Seconds a rate-limited client's input is read and dropped before its close frame goes out.
    static let floodLinger = 0.5
    /// Seconds over `send_queue_max` before the client is warned, and before it is closed.
    static let lagWarnAfter = 1.0
    static let lagCloseAfter = 5.0

    /// The slow-consumer policy (SPEC §5), on every tick: a queue that stays over
    /// `send_queue_max` for `lagWarnAfter` gets an `error` RATE_LIMITED "lagged" frame; one still
    /// over it after `lagCloseAfter` is closed with 4429. Bursts that drain quickly pass silently.
    func checkLag(_ connection: Connection, now: Double) {
        guard connection.queue.count > limits.sendQueueMax + connection.replayAllowance else {
            connection.laggingSince = nil
            connection.warnedLagging = false
            return
        }
        guard let since = connection.laggingSince else { connection.laggingSince = now; return }
        if now - since >= Gateway.lagCloseAfter {
            metrics.count("bedrock_slow_consumer_disconnects_total")
            connection.queue.removeAll()
            requestClose(connection, .rateLimited, "lagged: could not keep up for \(Int(Gateway.lagCloseAfter)) s")
        } else if now - since >= Gateway.lagWarnAfter && !connection.warnedLagging {
            connection.warnedLagging = true
            let warning = connection.machine.errorFrame(.rateLimited, "lagged: \(connection.queue.count) frames waiting; read faster or be disconnected")
            connection.queue.append(SharedFrame(json: warning))
        }
    }

    /// Close at the next writable callback with this code.
    func requestClose(_ connection: Connection, _ code: CloseCode, _ reason: String, linger: Double = 0) {
        guard connection.pendingClose == nil else { return }
        connection.pendingClose = (code, reason)
        connection.closeAt = linger > 0 ? now() + linger : 0
        connection.wsi.killAfter(seconds: Int(linger.rounded(.up)) + 3)  // a choked socket never gets writable
        metrics.count("bedrock_ws_closes_total", labels: "code=\"\(code.rawValue)\"")
        connection.wsi.requestWritable()
    }

    /// The open connection of `wsi`, through the pointer `established` stored with it (the
    /// `connections` dictionary keeps the object alive until `closed`, which clears the pointer).
    func connection(of wsi: WSI) -> Connection? {
        guard let pointer = wsi.userData else { return nil }
        return Unmanaged<Connection>.fromOpaque(pointer).takeUnretainedValue()
    }

    func writable(_ wsi: WSI) -> Int32 {
        guard let connection = connection(of: wsi) else { return 0 }
        connection.writeRequested = false
        if connection.writeFailed { return -1 }
        if let close = connection.pendingClose {
            if !connection.queue.isEmpty {
                // Last words first (e.g. the RATE_LIMITED error): one batch, then the close.
                let sent = connection.queue.count == 1 ? writeSingle(connection) : writeBatch(connection)
                connection.queue.removeAll()
                wsi.requestWritable()
                return sent ? 0 : -1
            }
            if connection.closeAt > 0 && now() < connection.closeAt { return 0 }  // the tick re-arms
            wsi.setCloseReason(close.code.rawValue, close.reason)
            return -1
        }
        if connection.queue.isEmpty { return 0 }
        if !writeNext(connection) { return -1 }
        if !connection.queue.isEmpty {
            connection.writeRequested = true
            wsi.requestWritable()
        }
        return 0
    }

    /// One write from the head of the queue: the first frame alone (straight from its shared
    /// buffer) or several in one batch. False when lws failed.
    private func writeNext(_ connection: Connection) -> Bool {
        guard let first = connection.queue.first else { return true }
        if connection.queue.count == 1 || first.count >= Gateway.batchLimit { return writeSingle(connection) }
        return writeBatch(connection)
    }

    /// The first queued frame on its own, straight from its shared buffer.
    private func writeSingle(_ connection: Connection) -> Bool {
        let frame = connection.queue.removeFirst()
        metrics.framesOut += 1
        metrics.eventsOut += 1
        if connection.replayAllowance > 0 { connection.replayAllowance -= 1 }
        return connection.wsi.writeText(frame.storage, payloadLength: frame.count)
    }

    /// Several queued frames in one text frame, separated by `\n` (SPEC §5 batching).
    private func writeBatch(_ connection: Connection) -> Bool {
        var length = 0
        var taken = 0
        let base = batchBuffer.advanced(by: WSI.headroom)
        while let frame = connection.queue.first, length + frame.count + 1 <= Gateway.batchLimit {
            if taken > 0 { base.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: length, as: UInt8.self); length += 1 }
            base.advanced(by: length).copyMemory(from: frame.storage.advanced(by: WSI.headroom), byteCount: frame.count)
            length += frame.count
            taken += 1
            connection.queue.removeFirst()
        }
        metrics.framesOut += 1
        metrics.eventsOut += taken
        connection.replayAllowance = max(0, connection.replayAllowance - taken)
        return connection.wsi.writeText(batchBuffer, payloadLength: length)
    }

    func closed(_ wsi: WSI) {
        upgrades[wsi] = nil
        wsi.setUserData(nil)
        guard let connection = connections.removeValue(forKey: wsi) else { return }
        census.closed(on: index, wasAuthenticated: connection.counted)
        for topic in connection.machine.subscriptions.keys { unsubscribe(connection, topic: topic) }
        connection.queue.removeAll()
        if shuttingDown && connections.isEmpty { server.stop() }
    }
}
