import Foundation
import GatewayCore
import HTTPClient
import Logging
import RedisClient
import Synchronization

/// One delivery thread of one target (see `NotifierService`): its own Redis connection, HTTP
/// client and consumer name. Each turn it tries the target's due retries, takes over events left
/// pending by a stopped consumer (`XAUTOCLAIM`, every `claim_idle_s / 2`), then reads new events
/// (`XREADGROUP … BLOCK 250`) and delivers them one after another.
final class NotifierWorker: @unchecked Sendable {
    // Sound: `stopping` is atomic and `finished` a semaphore; every other property is used only
    // by the worker's own thread (after `start`), or is a constant.
    private let target: NotificationTarget
    private let consumer: String
    private let keys: NotifierKeys
    private let settings: GatewayConfig.Notifications
    private let policy: DeliveryPolicy
    private let address: RedisAddress
    private let metrics: NotificationMetrics
    private let clock: any GatewayClock
    /// The target's circuit, shared by its threads: while open, deliveries go straight to the retry
    /// set without a call (a receiver that hangs costs no thread time).
    private let circuit: SharedCircuitBreaker
    /// Set on the one worker that refreshes the pending gauge: every target.
    private let gauge: [NotificationTarget]?
    private let log = Logger(label: "bedrock.notifications")
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    private let group: String
    private let streams: [String]
    private let topicOfStream: [String: String]
    private var connection: RedisConnection?
    private var client: HTTPClient?
    private var groupsReady = false
    private var nextClaim = 0.0
    private var nextGauge = 0.0
    /// When a pause next renews this consumer's own pending entries.
    private var nextOwnRenew = 0.0
    /// Monotonic time before which nothing is sent (Telegram's `retry_after`).
    private var pausedUntil = 0.0
    private var nextDeadLog = 0.0
    private var deadSinceLog = 0
    /// Set when a pause stopped a batch: this consumer's own pending entries are read next.
    private var resumeOwn = false

    /// Events read per stream per `XREADGROUP`.
    static let batch = 32
    /// How long one `XREADGROUP` blocks (ms): bounds how late a due retry or a stop is noticed.
    static let blockMillis = 250

    init(
        target: NotificationTarget, consumer: String, keys: NotifierKeys, settings: GatewayConfig.Notifications,
        policy: DeliveryPolicy, address: RedisAddress, metrics: NotificationMetrics, clock: any GatewayClock,
        circuit: SharedCircuitBreaker, gauge: [NotificationTarget]?
    ) {
        self.target = target
        self.consumer = consumer
        self.keys = keys
        self.settings = settings
        self.policy = policy
        self.address = address
        self.metrics = metrics
        self.clock = clock
        self.circuit = circuit
        self.gauge = gauge
        group = keys.group(target.name)
        streams = target.topics.map(keys.stream)
        topicOfStream = Dictionary(uniqueKeysWithValues: target.topics.map { (keys.stream($0), $0) })
    }

    /// Starts the thread.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "bedrock-notify"
        thread.start()
    }

    /// Asks the thread to stop after the delivery in progress.
    func requestStop() { stopping.store(true, ordering: .relaxed) }

    /// Waits for the thread to end, at most until `deadline`.
    func wait(until deadline: Date) {
        _ = finished.wait(timeout: .now() + max(0, deadline.timeIntervalSinceNow))
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    private func run() {
        defer { finished.signal() }
        do {
            client = try HTTPClient()
        } catch {
            log.error("notifications: \(target.name): no HTTP client: \(error)")
            return
        }
        var failures = 0
        while !isStopping {
            do {
                let c = try connected()
                try turn(on: c)
                failures = 0
            } catch {
                connection = nil
                groupsReady = false
                failures += 1
                if failures == 1 { log.warning("notifications: \(target.name): redis: \(error); retrying") }
                pause(min(2, 0.1 * Double(failures)))
            }
        }
    }

    private func connected() throws -> RedisConnection {
        if let c = connection, !c.isBroken { return c }
        let c = try RedisConnection(address, connectTimeout: 2, readTimeout: 5)
        connection = c
        return c
    }

    /// Sleeps up to `seconds`, waking early on stop.
    private func pause(_ seconds: Double) {
        let end = clock.read().monotonic + seconds
        while !isStopping, clock.read().monotonic < end { Thread.sleep(forTimeInterval: 0.02) }
    }

    private func turn(on c: RedisConnection) throws {
        if !groupsReady { try createGroups(on: c) }
        var now = clock.read().monotonic
        if let gauge, now >= nextGauge {
            try refreshGauge(gauge, on: c)
            nextGauge = now + 1
        }
        if now < pausedUntil {
            // The entries a pause left pending stay this consumer's (another gateway would send
            // them during the pause, out of order).
            if now >= nextOwnRenew {
                try renewOwn(on: c)
                nextOwnRenew = now + max(0.1, settings.claimIdleS / 2)
            }
            return pause(min(0.25, pausedUntil - now))
        }
        try retryDue(on: c)
        now = clock.read().monotonic
        if now >= nextClaim {
            try claimStale(on: c)
            nextClaim = now + max(0.1, settings.claimIdleS / 2)
        }
        if isStopping || isPaused { return }
        try readNew(on: c)
    }

    /// `XGROUP CREATE … $ MKSTREAM` on each stream (`BUSYGROUP`: it exists already).
    private func createGroups(on c: RedisConnection) throws {
        for stream in streams {
            let reply = try c.command(["XGROUP", "CREATE", stream, group, "$", "MKSTREAM"])
            if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") { throw RedisError.server(message) }
        }
        groupsReady = true
    }

    // MARK: reading

    /// A stream entry read or taken over, with the stream it belongs to (`event` nil: an entry
    /// without an `event` field, or deleted from the stream meanwhile: nothing to deliver).
    private struct Entry {
        let stream: String
        let id: String
        let event: String?
    }

    /// Reads new events (`>`), or, after a batch stopped by a pause, this consumer's own pending
    /// entries first (`0`) so they resume in order once the pause ends.
    private func readNew(on c: RedisConnection) throws {
        let resuming = resumeOwn
        let block = resuming ? [] : ["BLOCK", String(Self.blockMillis)]
        let args =
            ["XREADGROUP", "GROUP", group, consumer, "COUNT", String(Self.batch)] + block + ["STREAMS"]
            + streams + Array(repeating: resuming ? "0" : ">", count: streams.count)
        let reply = try c.command(args)
        if case .error(let message) = reply {
            if message.hasPrefix("NOGROUP") { groupsReady = false; return }
            throw RedisError.server(message)
        }
        var entries: [Entry] = []
        for streamReply in reply.array ?? [] {
            guard let parts = streamReply.array, parts.count == 2, let stream = parts[0].string else { continue }
            entries += Self.entries(parts[1], stream: stream)
        }
        if resuming, entries.isEmpty { resumeOwn = false }
        try deliverEntries(entries, on: c)
    }

    private static func entries(_ list: RedisReply, stream: String) -> [Entry] {
        (list.array ?? []).compactMap { entry in
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { return nil }
            return Entry(stream: stream, id: id, event: eventField(pair[1]))
        }
    }

    /// How long a claim (a read stream entry, a leased retry) stays this worker's: one attempt
    /// (`timeout_s`) plus `claim_idle_s`. Claims are renewed every `claim_idle_s / 2` while a batch
    /// is worked through or a pause holds it, so only a stopped worker's are taken over.
    private var claimSeconds: Double { settings.timeoutS + settings.claimIdleS }

    /// Takes over entries of this target's streams idle for `claimSeconds` (their consumer stopped).
    private func claimStale(on c: RedisConnection) throws {
        let idle = String(Int(claimSeconds * 1000))
        for stream in streams {
            var cursor = "0-0"
            for _ in 0..<8 {
                let reply = try c.command([
                    "XAUTOCLAIM", stream, group, consumer, idle, cursor, "COUNT", String(Self.batch),
                ])
                if case .error(let message) = reply {
                    if message.hasPrefix("NOGROUP") { groupsReady = false; return }
                    throw RedisError.server(message)
                }
                guard let parts = reply.array, parts.count >= 2, let next = parts[0].string else { break }
                try deliverEntries(Self.entries(parts[1], stream: stream), on: c)
                cursor = next
                if cursor == "0-0" || isStopping || isPaused { break }
            }
            // Consumers of stopped gateways (a new name each start) would pile up in the group.
            _ = try c.command(["EVAL", Self.pruneScript, "1", stream, group, consumer, idle]).checked()
        }
    }

    /// KEYS[1] a stream; ARGV the group, this consumer, the idle time (ms). Deletes the group's
    /// other consumers idle that long with no pending entry (checked and deleted at once, so no
    /// entry is lost; a live one deleted so is made again by its next read). Returns how many.
    private static let pruneScript = """
        local removed = 0
        for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
          local f = {}
          for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
          if f['name'] ~= ARGV[2] and tonumber(f['pending']) == 0 and tonumber(f['idle']) > tonumber(ARGV[3]) then
            redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
            removed = removed + 1
          end
        end
        return removed
        """

    /// True while Telegram's `retry_after` holds every send.
    private var isPaused: Bool { clock.read().monotonic < pausedUntil }

    /// Delivers entries in order, acknowledging each as soon as it is finished (delivered, skipped,
    /// or moved to the retry set or the dead letters). Every entry not finished yet has its claim
    /// renewed every `claim_idle_s / 2`. Entries not reached before a stop stay pending (another
    /// consumer takes them over); before a pause's end, they are read again by this consumer.
    private func deliverEntries(_ entries: [Entry], on c: RedisConnection) throws {
        var touched = clock.read().monotonic
        for (index, entry) in entries.enumerated() {
            if isStopping { return }
            if isPaused {
                resumeOwn = true
                return
            }
            let now = clock.read().monotonic
            if now - touched > settings.claimIdleS / 2 {
                try renew(entries[index...], on: c)
                touched = now
            }
            guard let topic = topicOfStream[entry.stream], let event = entry.event else {
                try acknowledge(entry, on: c)
                continue
            }
            if try attempt(Delivery(topic: topic, id: entry.id, event: event), from: .stream(entry.stream), on: c) {
                try acknowledge(entry, on: c)
            }
        }
    }

    private func acknowledge(_ entry: Entry, on c: RedisConnection) throws {
        _ = try c.command(["XACK", entry.stream, group, entry.id]).checked()
    }

    /// Resets the idle time of `entries` still pending under this consumer (one script per
    /// stream, in one round trip), so a slow batch keeps its entries from looking abandoned; an
    /// entry another consumer took over meanwhile stays theirs.
    private func renew(_ entries: ArraySlice<Entry>, on c: RedisConnection) throws {
        var ids: [String: [String]] = [:]
        for entry in entries { ids[entry.stream, default: []].append(entry.id) }
        let commands = ids.map { stream, list in
            ["EVAL", Self.renewScript, "1", stream, group, consumer, "0"] + list
        }
        for reply in try c.pipeline(commands) { _ = try reply.checked() }
    }

    /// Resets the idle time of every entry pending under this consumer (up to `ownLimit` per
    /// stream), while a pause holds them.
    private func renewOwn(on c: RedisConnection) throws {
        let commands = streams.map { ["EVAL", Self.renewScript, "1", $0, group, consumer, String(Self.ownLimit)] }
        for reply in try c.pipeline(commands) {
            if case .error(let message) = reply, message.contains("NOGROUP") {
                groupsReady = false
                return
            }
            _ = try reply.checked()
        }
    }

    /// Most own pending entries renewed per stream in one pause step (a batch and its take-overs
    /// stay far below).
    static let ownLimit = 1024

    /// KEYS[1] a stream; ARGV the group, this consumer, a count, then ids. With ids: `XCLAIM … 0 …
    /// JUSTID` of those still pending under this consumer (checked and claimed at once); without:
    /// of the first `count` entries pending under this consumer. Returns the ids renewed.
    private static let renewScript = """
        local ids = {}
        if #ARGV > 3 then
          for i = 4, #ARGV do
            local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
            if p[1] and p[1][2] == ARGV[2] then ids[#ids + 1] = ARGV[i] end
          end
        else
          for _, p in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[3]), ARGV[2])) do
            ids[#ids + 1] = p[1]
          end
        end
        if #ids == 0 then return {} end
        local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}
        for _, id in ipairs(ids) do args[#args + 1] = id end
        args[#args + 1] = 'JUSTID'
        return redis.call(unpack(args))
        """

    private static func eventField(_ fields: RedisReply) -> String? {
        guard let list = fields.array else { return nil }
        var index = 0
        while index + 1 < list.count {
            if list[index].string == "event" { return list[index + 1].string }
            index += 2
        }
        return nil
    }

    // MARK: retries

    /// Claims the due members of the retry set (each moved a lease ahead, so another gateway does
    /// not take them meanwhile, and a gateway that stops mid-way leaves them due again) and tries
    /// each. Due times and leases are read against Redis's clock (`TIME` in the scripts), so the
    /// gateways' wall clocks need not agree for a lease to hold.
    private func retryDue(on c: RedisConnection) throws {
        let key = keys.retries(target.name)
        let leaseMillis = String(Int64(claimSeconds * 1000))
        let reply = try c.command([
            "EVAL", Self.claimScript, "1", key, String(Self.batch), leaseMillis,
        ]).checked()
        let members = (reply.array ?? []).compactMap(\.string)
        var leased = clock.read().monotonic
        for (index, text) in members.enumerated() {
            // Stopped or paused: the members not tried are due again at their lease's end.
            if isStopping || isPaused { return }
            if clock.read().monotonic - leased > settings.claimIdleS / 2 {
                // A slow batch keeps the lease of the members it has not tried yet.
                _ = try c.command(["EVAL", Self.leaseScript, "1", key, leaseMillis] + members[index...]).checked()
                leased = clock.read().monotonic
            }
            guard let delivery = Delivery(encoded: text) else {
                _ = try c.command(["ZREM", key, text])
                continue
            }
            _ = try attempt(delivery, from: .retry(member: text), on: c)
        }
    }

    /// Redis's own time in ms (a script may write after `TIME`: effects are replicated).
    private static let redisNow = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        """

    /// KEYS[1] the retry set; ARGV how many, the lease (ms). Returns the due members, leased.
    private static let claimScript =
        redisNow + """

            local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
            for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), m) end
            return due
            """

    /// KEYS[1] the retry set; ARGV the lease (ms), then the members whose lease is renewed.
    private static let leaseScript =
        redisNow + """

            for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
            return #ARGV - 1
            """

    // MARK: one attempt

    /// Where a delivery was taken from, so its end can remove it there.
    private enum Source {
        case stream(String)
        case retry(member: String)

        /// True when this is the retry-set member `member`.
        func isRetry(_ member: String) -> Bool {
            if case .retry(let m) = self { return m == member }
            return false
        }
    }

    /// Tries `delivery` once and records the outcome. Returns true when a stream entry is finished
    /// and only needs its `XACK` (delivered or skipped); retries and dead letters are written here,
    /// with their acknowledgement, in one `MULTI`.
    private func attempt(_ delivery: Delivery, from source: Source, on c: RedisConnection) throws -> Bool {
        var d = delivery
        let start = clock.read()
        if d.firstAttempt == nil { d.firstAttempt = start.wall }
        guard let request = target.request(for: d, now: start.wall, timeout: settings.timeoutS), let client else {
            metrics.count(target.name, .skipped)
            return try finished(source, on: c)
        }
        let outcome: DeliveryPolicy.Outcome
        var refused = false
        switch circuit.decide() {
        case .refuse(let retryIn):
            refused = true
            // Not sent, not an attempt: the receiver keeps failing. The last real error stays the one reported.
            outcome = .failed(retryAfter: retryIn)
            if d.lastError.isEmpty { d.lastError = "circuit open: the receiver keeps failing" }
        case .go(let permit):
            d.attempts += 1
            do {
                let response = try client.send(request)
                (outcome, d.lastError) = target.outcome(of: response)
                // Any answer below 500 is the receiver working (a 4xx or 429 refuses this request only).
                circuit.record(permit, reached: response.status < 500)
            } catch {
                outcome = .failed(retryAfter: nil)
                d.lastError = error.description
                circuit.record(permit, reached: false)
            }
        }
        let end = clock.read()
        if case .failed(let wait?) = outcome, !refused { pausedUntil = end.monotonic + wait }
        switch policy.decide(outcome, attempts: d.attempts, firstAttempt: d.firstAttempt!, now: end.wall) {
        case .done:
            metrics.count(target.name, .delivered)
            return try finished(source, on: c)
        case .retry(let at):
            metrics.count(target.name, refused ? .held : .retried)
            let member = d.encoded()
            // A refused retry may encode as before (no attempt made): then its ZADD just moves it.
            let remove = source.isRetry(member) ? [] : removal(source, d)
            try transaction([["ZADD", keys.retries(target.name), String(Int64(at * 1000)), member]] + remove, on: c)
            return false
        case .dead:
            metrics.count(target.name, .dead)
            try transaction([deadEntry(d, at: end.wall)] + removal(source, d), on: c)
            noteDead(d)
            return false
        }
    }

    /// A delivered or skipped delivery: a retry-set member is removed now, a stream entry is
    /// acknowledged by the caller with its batch.
    private func finished(_ source: Source, on c: RedisConnection) throws -> Bool {
        guard case .retry(let member) = source else { return true }
        _ = try c.command(["ZREM", keys.retries(target.name), member]).checked()
        return false
    }

    /// The command that takes `d` off where it came from.
    private func removal(_ source: Source, _ d: Delivery) -> [[String]] {
        switch source {
        case .stream(let stream): return [["XACK", stream, group, d.id]]
        case .retry(let member): return [["ZREM", keys.retries(target.name), member]]
        }
    }

    private func deadEntry(_ d: Delivery, at now: Double) -> [String] {
        [
            "XADD", keys.dead, "MAXLEN", "~", String(settings.deadMaxlen), "*",
            "event", String(decoding: d.body(), as: UTF8.self), "webhook", target.name, "topic", d.topic, "id", d.id,
            "attempts", String(d.attempts), "last_error", d.lastError,
            "first_attempt_at", Timestamp.rfc3339(seconds: d.firstAttempt ?? now), "dead_at", Timestamp.rfc3339(seconds: now),
        ]
    }

    /// `MULTI`, `commands`, `EXEC` in one round trip; throws when the transaction did not run.
    private func transaction(_ commands: [[String]], on c: RedisConnection) throws {
        let replies = try c.pipeline([["MULTI"]] + commands + [["EXEC"]])
        guard let exec = replies.last, exec.array != nil else {
            throw RedisError.server("MULTI/EXEC failed: \(replies.last.map { "\($0)" } ?? "no reply")")
        }
    }

    /// One log line per 5 s at most for dead letters (a receiver down sends every event there).
    private func noteDead(_ d: Delivery) {
        deadSinceLog += 1
        let now = clock.read().monotonic
        guard now >= nextDeadLog else { return }
        log.warning(
            "notifications: \(target.name): \(d.eventID) dead after \(d.attempts) attempts (\(d.lastError)); \(deadSinceLog) dead since the last report, see \(keys.dead)"
        )
        deadSinceLog = 0
        nextDeadLog = now + 5
    }

    // MARK: gauge

    private func refreshGauge(_ targets: [NotificationTarget], on c: RedisConnection) throws {
        var commands: [[String]] = []
        for t in targets {
            commands.append(["ZCARD", keys.retries(t.name)])
            for topic in t.topics { commands.append(["XPENDING", keys.stream(topic), keys.group(t.name)]) }
        }
        var total: Int64 = 0
        for reply in try c.pipeline(commands) {
            if let n = reply.integer { total += n } else if let n = reply.array?.first?.integer { total += n }
        }
        metrics.setPending(Int(total))
    }
}
