import Bedrock
import Foundation

/// Drives one scenario on the pool's loop thread: a small phase machine called every 5 ms.
/// Every phase has a time limit, so a run always ends by itself.
final class Scenario {
    enum Phase { case connecting, subscribing, holding, requesting, publishing, draining, done }

    let options: Options
    let pool: any ClientConnections
    private(set) var report: Report
    private var phase = Phase.connecting
    private var phaseStart = ClockNs.monotonic()
    private let startNs = ClockNs.monotonic()
    private var connectStartNs: UInt64 = 0
    private var allUpNs: UInt64 = 0
    private var rssBefore: Int?
    private var rssUp: Int?
    private var cpu: CPUWindow?
    private var publisher: Publisher?
    private var publishTotal = 0
    private var framesAtPublish = 0
    private var progressAt = ClockNs.monotonic()
    private let makePublisher: (Int) throws -> Publisher
    /// The requests of `request`, `mixed` and `soak`.
    private let requests: RequestDriver?
    /// Server RSS/descriptor samples over the measured window (with `--server-pid`).
    private var sampler: ResourceSampler?

    /// `makePublisher(total)` opens the publisher's Redis connection when publishing starts.
    init(options: Options, pool: any ClientConnections, makePublisher: @escaping (Int) throws -> Publisher) {
        self.options = options
        self.pool = pool
        self.makePublisher = makePublisher
        report = Report(scenario: options.scenario)
        report.parameter("connections", .int(options.connections))
        report.parameter("client", .text(options.client))
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(
            separator: " ")
        report.parameter("loadavg", .text(load ?? "?"))
        if options.scenario != "connect" { report.parameter("duration_s", .double(options.duration, digits: 1)) }
        if options.publishes {
            report.parameter("rate_per_s", .double(options.rate, digits: 0))
            publishTotal = options.events ?? Int((options.rate * options.duration).rounded())
            report.parameter("events", .int(publishTotal))
        }
        requests = options.sendsRequests ? RequestDriver(options: options, pool: pool) : nil
        if let requests {
            report.parameter("requesters", .int(requests.requesters))
            report.parameter("inflight", .int(options.inflight))
            report.parameter("request_rate_per_s", .double(options.requestRate, digits: 0))
            report.parameter("method", .text(options.method))
            report.parameter("params", .text(options.params))
        }
        pool.autoSubscribe = options.publishes
        if let pid = options.serverPID { rssBefore = ProcStats.rssKB(pid) }
    }

    private var phaseSeconds: Double { Double(ClockNs.monotonic() - phaseStart) / 1e9 }
    private func enter(_ next: Phase) { phase = next; phaseStart = ClockNs.monotonic() }

    /// One tick; false when the scenario is over.
    func tick() -> Bool {
        let s = pool.stats
        progress(s)
        sampler?.tick()
        requests?.tick(pool)
        switch phase {
        case .connecting:
            if connectStartNs == 0 { connectStartNs = ClockNs.realtime() }
            var inFlight = s.started - s.welcomed - s.failed
            while s.started < options.connections && inFlight < options.concurrency {
                pool.connect(s.started)
                inFlight += 1
            }
            if s.welcomed + s.failed >= options.connections {
                allUpNs = s.lastWelcomeNs
                connected()
            } else if phaseSeconds > options.phaseTimeout {
                report.fail(
                    "only \(s.welcomed)/\(options.connections) connections welcomed within \(Int(options.phaseTimeout)) s")
                connected()
            }
        case .subscribing:
            if s.subscribed + s.failed + s.unexpectedCloses >= options.connections {
                startPublishing()
            } else if phaseSeconds > options.phaseTimeout {
                report.fail("only \(s.subscribed)/\(options.connections) subscribed within \(Int(options.phaseTimeout)) s")
                startPublishing()
            }
        case .holding:
            if phaseSeconds >= options.duration { finishHold() }
        case .requesting:
            if phaseSeconds >= options.duration { requests?.stop(); enter(.draining) }
        case .publishing:
            guard let publisher else { finish(); return false }
            if publisher.isFinished {
                requests?.stop(); enter(.draining)
            } else if phaseSeconds > options.duration + options.phaseTimeout {
                publisher.stop()
            }
        case .draining:
            let expected = (publisher?.published ?? 0) * max(0, s.subscribed - s.unexpectedCloses)
            let eventsIn = publisher == nil || s.events >= expected
            let answersIn = requests?.drained ?? true
            let limit = max(min(options.phaseTimeout, 15), requests == nil ? 0 : options.requestTimeout)
            if (eventsIn && answersIn) || phaseSeconds > limit { finishRun() }
        case .done:
            return false
        }
        return phase != .done
    }

    private func progress(_ s: PoolStats) {
        guard !options.quiet, ClockNs.monotonic() - progressAt > 2_000_000_000 else { return }
        progressAt = ClockNs.monotonic()
        let t = Double(progressAt - startNs) / 1e9
        var line = String(
            format: "[%6.1fs] %@ welcomed=%d failed=%d subscribed=%d closed=%d events=%d frames=%d",
            t, "\(phase)", s.welcomed, s.failed, s.subscribed, s.unexpectedCloses, s.events, s.frames)
        if let r = requests?.tracker { line += " requests=\(r.sent) answered=\(r.answered) missing=\(r.missing)" }
        if let last = sampler?.samples.last { line += " server_rss=\(last.rssKB)KiB fds=\(last.fds)" }
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
    }

    private func connected() {
        let s = pool.stats
        let seconds = allUpNs > connectStartNs ? Double(allUpNs - connectStartNs) / 1e9 : 0
        report.add("connections welcomed", .int(s.welcomed))
        report.add("connect failures", .int(s.failed))
        for (i, sample) in s.failureSamples.enumerated() { report.add("failure sample \(i + 1)", .text(sample)) }
        report.add("time to all welcomed", seconds, digits: 2, "s")
        if seconds > 0 { report.add("connections per second", Double(s.welcomed) / seconds, digits: 0, "conn/s") }
        if s.failed > 0 { report.fail("\(s.failed) connections failed") }
        switch options.scenario {
        case "connect":
            finish()
        case "hold":
            if let pid = options.serverPID {
                usleep(500_000)  // let the server finish any last allocation before reading RSS
                rssUp = ProcStats.rssKB(pid)
            }
            startSampling()
            cpu = CPUWindow(serverPID: options.serverPID)
            enter(.holding)
        case "request":
            startSampling()
            cpu = CPUWindow(serverPID: options.serverPID)
            requests?.start(pool)
            enter(.requesting)
        default:
            enter(.subscribing)
        }
    }

    private func finishHold() {
        let s = pool.stats
        let window = cpu?.end()
        if let before = rssBefore, let up = rssUp {
            report.add("server RSS empty", .int(before), "KiB")
            report.add("server RSS all connected", .int(up), "KiB")
            if s.welcomed > 0 { report.add("RSS per connection", Double(up - before) / Double(s.welcomed), digits: 2, "KiB") }
            if let pid = options.serverPID, let end = ProcStats.rssKB(pid) {
                report.add("server RSS end of hold", .int(end), "KiB")
            }
        }
        if let own = ProcStats.rssKB(getpid()), s.welcomed > 0 {
            report.add("loadtest RSS", .int(own), "KiB")
        }
        report.add("pings answered", .int(s.pings))
        report.add("unexpected disconnects", .int(s.unexpectedCloses))
        report.add("connections alive at end", .int(s.welcomed - s.unexpectedCloses))
        addCPU(window)
        addSamples()
        if s.unexpectedCloses > 0 { report.fail("\(s.unexpectedCloses) unexpected disconnects, codes \(s.closeCodes)") }
        finish()
    }

    private func startPublishing() {
        do {
            let p = try makePublisher(publishTotal)
            publisher = p
            framesAtPublish = pool.stats.frames
            cpu = CPUWindow(serverPID: options.serverPID)
            startSampling()
            p.start()
            requests?.start(pool)
            enter(.publishing)
        } catch {
            report.fail("publisher: \(error)")
            finish()
        }
    }

    private func addCPU(_ window: (wall: Double, server: Double?, client: Double?, machine: Double?)?) {
        guard let window else { return }
        report.add("window", window.wall, digits: 2, "s")
        report.add("server CPU", window.server, digits: 0, "% of a core")
        report.add("loadtest CPU", window.client, digits: 0, "% of a core")
        report.add("machine CPU busy", window.machine, digits: 0, "% (all cores)")
        if let m = window.machine, let s = window.server, let c = window.client {
            report.add("other processes CPU", max(0, m - s - c), digits: 0, "% of a core")
        }
    }

    /// End of `request`, `fanout`, `smoke`, `mixed` and `soak`: the tables of what ran.
    private func finishRun() {
        let window = cpu?.end()
        if publisher != nil { reportFanout() }
        requests?.finish(into: &report)
        if requests != nil && publisher == nil {
            let s = pool.stats
            report.section("connections")
            report.add("unexpected disconnects", .int(s.unexpectedCloses))
            if s.unexpectedCloses > 0 { report.fail("\(s.unexpectedCloses) unexpected disconnects, codes \(s.closeCodes)") }
        }
        addCPU(window)
        addSamples()
        finish()
    }

    private func reportFanout() {
        let s = pool.stats
        if requests != nil { report.section("fan-out") }
        let published = publisher?.published ?? 0
        var perfect = 0, lost = 0, dup = 0, disorder = 0, short = 0
        for c in pool.conns where c.phase == .subscribed {
            let missing = published - Int(c.nextSeq)
            let l = c.lost + max(0, missing)
            lost += l; dup += c.duplicated; disorder += c.outOfOrder
            if l == 0 && c.duplicated == 0 && c.outOfOrder == 0 && c.events == published { perfect += 1 } else { short += 1 }
        }
        let alive = pool.conns.filter { $0.phase == .subscribed }.count
        let failedConns = options.connections - perfect
        let seconds = s.lastEventNs > s.firstEventNs ? Double(s.lastEventNs - s.firstEventNs) / 1e9 : 0
        let frames = s.frames - framesAtPublish
        report.add("subscribers", .int(s.subscribed))
        report.add("events published", .int(published))
        report.add("events delivered", .int(s.events))
        report.add("frames received", .int(frames))
        report.add("delivery window", seconds, digits: 2, "s")
        if seconds > 0 {
            report.add("delivered events/s", Double(s.events) / seconds, digits: 0, "events/s")
            report.add("frames/s", Double(frames) / seconds, digits: 0, "frames/s")
        }
        if frames > 0 { report.add("events per frame", Double(s.events) / Double(frames), digits: 2) }
        let h = s.latency
        for (name, p) in [("latency p50", 50.0), ("latency p90", 90.0), ("latency p99", 99.0), ("latency p99.9", 99.9)] {
            report.add(name, Double(h.percentile(p)) / 1e6, digits: 3, "ms")
        }
        report.add("latency max", Double(h.max) / 1e6, digits: 3, "ms")
        report.add("lost", .int(lost))
        report.add("duplicated", .int(dup))
        report.add("out of order", .int(disorder))
        report.add("unexpected disconnects", .int(s.unexpectedCloses))
        report.add("error frames", .int(s.errorFrames))
        report.add("connections passed", .int(perfect))
        report.add("connections failed", .int(failedConns))
        if let error = publisher?.error { report.fail("publisher: \(error)") }
        if published < publishTotal { report.fail("published \(published) of \(publishTotal) events") }
        if lost > 0 || dup > 0 || disorder > 0 || short > 0 || alive < options.connections {
            report.fail(
                "\(failedConns) of \(options.connections) connections did not get every event exactly once in order (lost \(lost), duplicated \(dup), out of order \(disorder), disconnects \(s.unexpectedCloses) \(s.closeCodes))"
            )
        }
    }

    private func finish() { enter(.done); pool.stop() }

    /// Start sampling the server's RSS and descriptors (hold, request, mixed, soak).
    private func startSampling() {
        guard let pid = options.serverPID, options.scenario != "fanout", options.scenario != "smoke" else { return }
        sampler = ResourceSampler(pid: pid, every: options.sampleEvery)
    }

    /// RSS and descriptor rows from the samples after the warm-up; `soak` fails when either grew.
    private func addSamples() {
        guard let sampler else { return }
        sampler.tick(force: true)
        report.attach("samples", sampler.series)
        let warmup = options.warmup ?? (options.scenario == "soak" ? options.duration / 10 : 0)
        report.section("server resources (after \(Int(warmup)) s warm-up, every \(options.sampleEvery) s)")
        report.add("samples", .int(sampler.samples.count))
        guard let v = sampler.verdict(afterWarmup: warmup) else {
            if options.scenario == "soak" { report.fail("fewer than two RSS samples after the warm-up") }
            return
        }
        report.add("server RSS first", .int(v.first.rssKB), "KiB")
        report.add("server RSS last", .int(v.last.rssKB), "KiB")
        report.add("server RSS min", .int(v.rssMin), "KiB")
        report.add("server RSS max", .int(v.rssMax), "KiB")
        report.add("server RSS growth", v.rssGrowthPct, digits: 2, "%")
        report.add("server RSS flat within 5 %", .text(v.flat(within: 5) ? "yes" : "no"))
        report.add("server fds first", .int(v.first.fds))
        report.add("server fds last", .int(v.last.fds))
        report.add("server fds max", .int(v.fdMax))
        if let t = v.fdsLastChangedAt { report.add("server fds last changed at", t, digits: 0, "s") }
        if options.scenario == "soak" && v.grew(tolerance: 5) {
            report.fail(
                String(
                    format: "server grew: RSS %d → %d KiB (%+.2f %%), fds %d → %d",
                    v.first.rssKB, v.last.rssKB, v.rssGrowthPct, v.first.fds, v.last.fds))
        }
    }
}
