import JSONCodec
import MarketDataCore

/// The kline stream hub's policy, with no socket: which connections to open, what to send, when
/// to ping, drop, reconnect and renew, and which events to report. Each input (a connection
/// opened, a message, a pong, a connection ended, a wake-up) returns the actions to carry out, in
/// order. Times are monotonic seconds. Used on the hub's thread only.
///
/// Subscriptions are grouped into links: one per exchange endpoint and chunk of streams (Binance:
/// a combined stream of up to 1024 names whose path fits the handshake; Bybit: up to 200 topics,
/// subscribed 10 per request). A link has at most one active connection and one candidate (a
/// reconnect attempt, or a Binance renewal opened before the active one is closed).
struct KlineStreamCore {
    /// What the hub's loop does.
    enum Action: Equatable {
        /// Open connection `tag` to `url`.
        case connect(tag: Int, url: String)
        /// Send a text message.
        case send(tag: Int, String)
        /// Send a ping frame.
        case ping(tag: Int)
        /// Close with a close frame (a renewed Binance connection).
        case close(tag: Int)
        /// Drop at once (silent): `ended` follows.
        case drop(tag: Int, reason: String)
        /// Hand an event to the handler.
        case emit(KlineStreamEvent)
    }

    struct Link {
        let exchange: Exchange
        let url: String
        let subscriptions: [KlineSubscription]
        /// Stream names (Bybit topics), one per subscription.
        let names: [String]
        /// `SYMBOL|interval` → index in `subscriptions`.
        let lookup: [String: Int]
        var active: Int?
        var candidate: Int?
        var retryAt: Double?
        var renewAt: Double?
        var backoff: ReconnectBackoff
        /// Subscriptions reported `connected` and not since `disconnected`.
        var flowing: Set<Int> = []
    }

    struct Connection {
        let link: Int
        /// When the connect was asked for.
        let startedAt: Double
        var open = false
        var lastHeard: Double
        var nextPingAt = Double.infinity
        /// Bybit: the subscription indexes of each subscribe request not answered yet, in order
        /// (answers come in request order).
        var pendingAcks: [[Int]] = []
        /// Replaced by a renewal and closing: its end is expected.
        var retiring = false
        /// Dropped as silent: its end is on the way.
        var dropping = false
    }

    let settings: KlineStreamSettings
    private(set) var links: [Link] = []
    private(set) var connections: [Int: Connection] = [:]
    private var nextTag = 0
    private var random: any RandomNumberGenerator
    /// Forming-bar updates received and dropped (only closed bars are delivered).
    private(set) var formingUpdates = 0

    /// The policy for `subscriptions` (duplicates ignored); `UnsupportedInterval` when an exchange
    /// has no klines of a subscription's interval.
    init(
        _ subscriptions: [KlineSubscription], settings: KlineStreamSettings,
        random: any RandomNumberGenerator = SystemRandomNumberGenerator()
    ) throws(UnsupportedInterval) {
        self.settings = settings
        self.random = random
        var seen = Set<KlineSubscription>()
        var groups: [(key: String, subs: [KlineSubscription], names: [String])] = []
        for s in subscriptions where seen.insert(s).inserted {
            let name = try s.streamName()
            let key = "\(s.exchange)|\(s.endpoints.wsURL)"
            if let last = groups.lastIndex(where: { $0.key == key }), fits(groups[last].names, adding: name, on: s.exchange) {
                groups[last].subs.append(s)
                groups[last].names.append(name)
            } else {
                groups.append((key, [s], [name]))
            }
        }
        links = groups.map { group in
            let first = group.subs[0]
            let url: String
            switch first.exchange {
            case .binance: url = first.endpoints.wsURL + "/stream?streams=" + group.names.joined(separator: "/")
            case .bybit: url = first.endpoints.wsURL
            }
            var lookup: [String: Int] = [:]
            for (i, s) in group.subs.enumerated() { lookup[Self.key(s.symbol.id, s.interval)] = i }
            return Link(
                exchange: first.exchange, url: url, subscriptions: group.subs, names: group.names, lookup: lookup,
                backoff: settings.backoff)
        }
    }

    private func fits(_ names: [String], adding name: String, on exchange: Exchange) -> Bool {
        switch exchange {
        case .binance:
            let path = names.reduce(0) { $0 + $1.utf8.count + 1 } + name.utf8.count + "/stream?streams=".utf8.count
            return names.count < settings.binanceMaxStreamsPerConnection && path <= settings.binanceMaxPathBytes
        case .bybit:
            return names.count < settings.bybitMaxTopicsPerConnection
        }
    }

    private static func key(_ symbol: String, _ interval: KlineInterval) -> String { "\(symbol)|\(interval.rawValue)" }

    // MARK: Inputs

    /// Open every link's first connection.
    mutating func start(now: Double) -> [Action] {
        links.indices.map { openCandidate($0, now: now) }
    }

    /// Connection `tag` completed its handshake.
    mutating func opened(_ tag: Int, now: Double) -> [Action] {
        guard var c = connections[tag], !c.retiring, !c.dropping else { return [] }
        let i = c.link
        guard links[i].candidate == tag else { return [] }
        c.open = true
        c.lastHeard = now
        c.nextPingAt = now + settings.heartbeatInterval
        var actions: [Action] = []
        links[i].candidate = nil
        links[i].retryAt = nil
        if let old = links[i].active {
            connections[old]?.retiring = true
            actions.append(.close(tag: old))
        }
        links[i].active = tag
        links[i].backoff.connected(now: now)
        switch links[i].exchange {
        case .binance:
            for s in links[i].subscriptions.indices where links[i].flowing.insert(s).inserted {
                actions.append(.emit(.connected(links[i].subscriptions[s])))
            }
            links[i].renewAt = settings.binanceRenewal.renewAt(connectedAt: now)
        case .bybit:
            let all = Array(links[i].subscriptions.indices)
            var start = 0
            while start < all.count {
                let chunk = Array(all[start..<min(all.count, start + settings.bybitMaxArgsPerSubscribe)])
                c.pendingAcks.append(chunk)
                actions.append(.send(tag: tag, BybitKlines.subscribeFrame(topics: chunk.map { links[i].names[$0] })))
                start += chunk.count
            }
        }
        connections[tag] = c
        return actions
    }

    /// Connection `tag` sent a whole message.
    mutating func received(_ tag: Int, _ text: String, now: Double) -> [Action] {
        guard connections[tag] != nil else { return [] }
        connections[tag]!.lastHeard = now
        let i = connections[tag]!.link
        switch links[i].exchange {
        case .binance:
            do throws(KlineDecodeError) {
                switch try BinanceKlines.decodeStream(text) {
                case .kline(let k): return deliver(k, link: i, now: now)
                case .response: return []
                }
            } catch {
                if Self.isServerShutdown(text) { return renewNow(tag, now: now) }
                return [.emit(.rejected(soleSubscription(i), .malformed, detail: error.message))]
            }
        case .bybit:
            do throws(KlineDecodeError) {
                switch try BybitKlines.decodeStream(text) {
                case .klines(let ks): return ks.flatMap { deliver($0, link: i, now: now) }
                case .subscribed(let success, let message): return acknowledged(tag, success: success, message: message)
                case .pong: return []
                }
            } catch {
                return [.emit(.rejected(soleSubscription(i), .malformed, detail: error.message))]
            }
        }
    }

    /// Connection `tag` received a pong frame.
    mutating func ponged(_ tag: Int, now: Double) {
        connections[tag]?.lastHeard = now
    }

    /// Connection `tag` is gone.
    mutating func ended(_ tag: Int, reason: String, now: Double) -> [Action] {
        guard let c = connections.removeValue(forKey: tag), !c.retiring else { return [] }
        let i = c.link
        var actions: [Action] = []
        if links[i].active == tag {
            links[i].active = nil
            links[i].renewAt = nil
            for s in links[i].subscriptions.indices where links[i].flowing.remove(s) != nil {
                actions.append(.emit(.disconnected(links[i].subscriptions[s], reason: reason)))
            }
            // A renewal already connecting takes over as the reconnect.
            if links[i].candidate == nil { actions.append(scheduleRetry(i, now: now, reason: reason)) }
        } else if links[i].candidate == tag {
            links[i].candidate = nil
            actions.append(scheduleRetry(i, now: now, reason: reason))
        }
        return actions
    }

    /// The wake-up time came (or any time): retries, renewals, heartbeats and silent connections.
    mutating func woke(now: Double) -> [Action] {
        var actions: [Action] = []
        for i in links.indices where links[i].candidate == nil {
            if let at = links[i].retryAt, at <= now {
                links[i].retryAt = nil
                actions.append(openCandidate(i, now: now))
            } else if let at = links[i].renewAt, at <= now, links[i].active != nil {
                links[i].renewAt = nil
                actions.append(openCandidate(i, now: now))
            }
        }
        for tag in connections.keys.sorted() {
            guard var c = connections[tag], !c.retiring, !c.dropping else { continue }
            if !c.open {
                if now - c.startedAt >= Double(settings.connectTimeout) {
                    connections[tag]?.dropping = true
                    actions.append(.drop(tag: tag, reason: "cannot connect: no handshake within \(settings.connectTimeout) s"))
                }
                continue
            }
            if now - c.lastHeard >= settings.idleTimeout {
                c.dropping = true
                let silent = Int((now - c.lastHeard).rounded())
                actions.append(.drop(tag: tag, reason: "no message and no pong for \(silent) s"))
            } else if now >= c.nextPingAt {
                c.nextPingAt = now + settings.heartbeatInterval
                switch links[c.link].exchange {
                case .binance: actions.append(.ping(tag: tag))
                case .bybit: actions.append(.send(tag: tag, BybitKlines.pingFrame))
                }
            }
            connections[tag] = c
        }
        return actions
    }

    /// When `woke` next has something to do; nil when nothing is scheduled.
    func nextWake() -> Double? {
        var next = Double.infinity
        for link in links where link.candidate == nil {
            if let at = link.retryAt { next = min(next, at) }
            if let at = link.renewAt, link.active != nil { next = min(next, at) }
        }
        for c in connections.values where !c.retiring && !c.dropping {
            next = min(
                next,
                c.open ? min(c.nextPingAt, c.lastHeard + settings.idleTimeout) : c.startedAt + Double(settings.connectTimeout))
        }
        return next.isFinite ? next : nil
    }

    // MARK: Helpers

    private mutating func openCandidate(_ i: Int, now: Double) -> Action {
        let tag = nextTag
        nextTag += 1
        connections[tag] = Connection(link: i, startedAt: now, lastHeard: now)
        links[i].candidate = tag
        return .connect(tag: tag, url: links[i].url)
    }

    private mutating func scheduleRetry(_ i: Int, now: Double, reason: String) -> Action {
        let at = links[i].backoff.nextAttempt(now: now, using: &random)
        links[i].retryAt = at
        return .emit(
            .reconnecting(exchange: links[i].exchange, subscriptions: links[i].subscriptions, after: at - now, reason: reason))
    }

    /// Binance's `serverShutdown` event (`{"e":"serverShutdown","E":ms}`, bare, in a combined
    /// stream's `data` or an `event` wrapper): the server is about to cut its connections.
    private static func isServerShutdown(_ text: String) -> Bool {
        guard text.utf8.count < 1024, text.contains("serverShutdown"), let value = try? JSONCodec.parse(text) else {
            return false
        }
        return [value, value["data"], value["event"]].contains { $0?["e"]?.stringValue == "serverShutdown" }
    }

    /// Replace link's active connection `tag` now, as at its renewal time (no gap: the new one
    /// opens before the old one closes).
    private mutating func renewNow(_ tag: Int, now: Double) -> [Action] {
        guard let i = connections[tag]?.link, links[i].active == tag, links[i].candidate == nil else { return [] }
        links[i].renewAt = nil
        links[i].retryAt = nil
        return [openCandidate(i, now: now)]
    }

    private func soleSubscription(_ i: Int) -> KlineSubscription? {
        links[i].subscriptions.count == 1 ? links[i].subscriptions[0] : nil
    }

    private mutating func deliver(_ k: ExchangeKline, link i: Int, now: Double) -> [Action] {
        guard let s = links[i].lookup[Self.key(k.symbol, k.interval)] else {
            return [.emit(.rejected(nil, .wrongMarket, detail: "\(k.symbol.prefix(32)) \(k.interval) is not followed here"))]
        }
        let subscription = links[i].subscriptions[s]
        guard k.closed else {
            formingUpdates += 1
            return []
        }
        if let reason = BarQuality.rejection(of: k) {
            return [.emit(.rejected(subscription, reason, detail: "bar opening at \(k.openTime)"))]
        }
        return [.emit(.closedBar(subscription, k, receivedAt: now))]
    }

    private mutating func acknowledged(_ tag: Int, success: Bool, message: String) -> [Action] {
        guard var c = connections[tag], !c.pendingAcks.isEmpty else { return [] }
        let group = c.pendingAcks.removeFirst()
        let i = c.link
        var actions: [Action] = []
        if success {
            for s in group where links[i].active == tag && links[i].flowing.insert(s).inserted {
                actions.append(.emit(.connected(links[i].subscriptions[s])))
            }
        } else if group.count > 1 {
            // One bad topic fails its whole request: ask for each alone to find it.
            for s in group {
                c.pendingAcks.append([s])
                actions.append(.send(tag: tag, BybitKlines.subscribeFrame(topics: [links[i].names[s]])))
            }
        } else if let s = group.first {
            actions.append(.emit(.subscribeFailed(links[i].subscriptions[s], reason: "bybit refused the subscribe: \(message)")))
        }
        connections[tag] = c
        return actions
    }
}
