import CWebSockets
import Foundation

/// WebSocket side of the loop: upgrade, frames in, actions out, the send queue and closing.
extension Gateway {
    func confirmUpgrade(_ wsi: WSI) -> Int32 {
        let exchange = HTTPExchange(wsi: wsi, requestID: HTTPExchange.requestID(from: wsi))
        guard wsi.header(WSI_TOKEN_GET_URI) == "/ws" else {
            return reject(exchange, .notFound, "WebSocket endpoint is /ws")
        }
        if shuttingDown { return reject(exchange, .unavailable, "server shutting down") }
        if connections.count >= options.maxConnections {
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
        nextSessionNumber += 1
        let identity = upgrades.removeValue(forKey: wsi)
        let sessionID = String(format: "s%llx-%llx", UInt64(now() * 1000), nextSessionNumber)
        let machine = SessionMachine(sessionID: sessionID, limits: limits, now: now(), identity: identity,
                                     authenticate: authenticate)
        let connection = Connection(wsi: wsi, machine: machine)
        connections[wsi] = connection
        metrics.count("bedrock_ws_connections_opened_total")
        if identity != nil { perform([.authenticated, .send(machine.welcome())], on: connection) }
    }

    func receive(_ wsi: WSI, bytes: UnsafeRawBufferPointer, isFinal: Bool, isBinary: Bool) -> Int32 {
        guard let connection = connections[wsi], connection.pendingClose == nil else { return 0 }
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
                requestClose(connection, code, reason)
                return
            case .authenticated:
                if !connection.counted { connection.counted = true; activeConnections += 1 }
            case .subscribe(let id, let topic, let since):
                subscribe(connection, id: id, topic: topic.name, since: since)
            case .unsubscribe(_, let topic):
                unsubscribe(connection, topic: topic.name)
            case .request(let id, let method, _):
                let frame = connection.machine.errorFrame(.notFound, "method \(method.rawValue) is not available on this gateway yet", id: id)
                enqueue(SharedFrame(json: frame), on: connection)
            }
        }
    }

    /// Append a frame to the connection's queue, applying the slow-consumer policy: a warning at
    /// 3/4 of the limit, a 4429 close when full (the client resumes with `since`).
    func enqueue(_ frame: SharedFrame, on connection: Connection) {
        guard connection.pendingClose == nil else { return }
        let limit = limits.sendQueueMax + connection.replayAllowance
        if connection.queue.count >= limit {
            metrics.count("bedrock_slow_consumer_disconnects_total")
            connection.queue.removeAll()
            requestClose(connection, .rateLimited, "lagged: send queue full")
            return
        }
        connection.queue.append(frame)
        if !connection.warnedLagging && connection.queue.count >= connection.replayAllowance + limits.sendQueueMax * 3 / 4 {
            connection.warnedLagging = true
            let warning = connection.machine.errorFrame(.rateLimited, "lagged: \(connection.queue.count) frames waiting; read faster or you will be disconnected")
            connection.queue.append(SharedFrame(json: warning))
        }
        if !connection.writeRequested {
            connection.writeRequested = true
            connection.wsi.requestWritable()
        }
    }

    /// Close at the next writable callback with this code.
    func requestClose(_ connection: Connection, _ code: CloseCode, _ reason: String) {
        guard connection.pendingClose == nil else { return }
        connection.pendingClose = (code, reason)
        metrics.count("bedrock_ws_closes_total", labels: "code=\"\(code.rawValue)\"")
        connection.wsi.requestWritable()
    }

    func writable(_ wsi: WSI) -> Int32 {
        guard let connection = connections[wsi] else { return 0 }
        connection.writeRequested = false
        if let close = connection.pendingClose {
            wsi.setCloseReason(close.code.rawValue, close.reason)
            return -1
        }
        guard let first = connection.queue.first else { return 0 }
        let sent: Bool
        if connection.queue.count == 1 || first.count >= Gateway.batchLimit {
            connection.queue.removeFirst()
            sent = wsi.writeText(first.storage, payloadLength: first.count)
            metrics.framesOut += 1
            metrics.eventsOut += 1
            if connection.replayAllowance > 0 { connection.replayAllowance -= 1 }
        } else {
            sent = writeBatch(connection)
        }
        if !sent { return -1 }
        if connection.queue.isEmpty {
            connection.warnedLagging = false
        } else {
            connection.writeRequested = true
            wsi.requestWritable()
        }
        return 0
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
        guard let connection = connections.removeValue(forKey: wsi) else { return }
        if connection.counted { activeConnections -= 1 }
        for topic in connection.machine.subscriptions.keys { unsubscribe(connection, topic: topic) }
        connection.queue.removeAll()
        if shuttingDown && connections.isEmpty { server.stop() }
    }
}
