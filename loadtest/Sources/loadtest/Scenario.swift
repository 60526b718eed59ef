import Bedrock
import Foundation

/// Drives one scenario on the pool's loop thread: a small phase machine called every 5 ms.
/// Every phase has a time limit, so a run always ends by itself.
final class Scenario {
    enum Phase { case connecting, subscribing, holding, publishing, draining, done }

    let options: Options
    let pool: ClientPool
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

    /// `makePublisher(total)` opens the publisher's Redis connection when publishing starts.
    init(options: Options, pool: ClientPool, makePublisher: @escaping (Int) throws -> Publisher) {
        self.options = options
        self.pool = pool
        self.makePublisher = makePublisher
        report = Report(scenario: options.scenario)
        report.parameter("connections", .int(options.connections))
        if options.scenario == "hold" { report.parameter("duration_s", .double(options.duration, digits: 1)) }
        if options.scenario == "fanout" || options.scenario == "smoke" {
            report.parameter("rate_per_s", .double(options.rate, digits: 0))
            publishTotal = options.events ?? Int((options.rate * options.duration).rounded())
            report.parameter("events", .int(publishTotal))
        }
        pool.autoSubscribe = options.scenario == "fanout" || options.scenario == "smoke"
        if let pid = options.serverPID { rssBefore = ProcStats.rssKB(pid) }
    }

    private var phaseSeconds: Double { Double(ClockNs.monotonic() - phaseStart) / 1e9 }
    private func enter(_ next: Phase) { phase = next; phaseStart = ClockNs.monotonic() }

    /// One tick; false when the scenario is over.
    func tick() -> Bool {
        let s = pool.stats
        progress(s)
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
                report.fail("only \(s.welcomed)/\(options.connections) connections welcomed within \(Int(options.phaseTimeout)) s")
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
        case .publishing:
            guard let publisher else { finish(); return false }
            if publisher.isFinished { enter(.draining) }
            else if phaseSeconds > options.duration + options.phaseTimeout { publisher.stop() }
        case .draining:
            let expected = (publisher?.published ?? 0) * max(0, s.subscribed - s.unexpectedCloses)
            if s.events >= expected || phaseSeconds > min(options.phaseTimeout, 15) { finishFanout() }
        case .done:
            return false
        }
        return phase != .done
    }

    private func progress(_ s: PoolStats) {
        guard !options.quiet, ClockNs.monotonic() - progressAt > 2_000_000_000 else { return }
        progressAt = ClockNs.monotonic()
        let t = Double(progressAt - startNs) / 1e9
        FileHandle.standardError.write(String(format: "[%6.1fs] %@ welcomed=%d failed=%d subscribed=%d closed=%d events=%d frames=%d\n",
                                              t, "\(phase)", s.welcomed, s.failed, s.subscribed, s.unexpectedCloses, s.events, s.frames).data(using: .utf8)!)
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
            cpu = CPUWindow(serverPID: options.serverPID)
            enter(.holding)
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
            if let pid = options.serverPID, let end = ProcStats.rssKB(pid) { report.add("server RSS end of hold", .int(end), "KiB") }
        }
        if let own = ProcStats.rssKB(getpid()), s.welcomed > 0 {
            report.add("loadtest RSS", .int(own), "KiB")
        }
        report.add("pings answered", .int(s.pings))
        report.add("unexpected disconnects", .int(s.unexpectedCloses))
        report.add("connections alive at end", .int(s.welcomed - s.unexpectedCloses))
        addCPU(window)
        if s.unexpectedCloses > 0 { report.fail("\(s.unexpectedCloses) unexpected disconnects, codes \(s.closeCodes)") }
        finish()
    }

    private func startPublishing() {
        do {
            let p = try makePublisher(publishTotal)
            publisher = p
            framesAtPublish = pool.stats.frames
            cpu = CPUWindow(serverPID: options.serverPID)
            p.start()
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

    private func finishFanout() {
        let s = pool.stats
        let window = cpu?.end()
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
        addCPU(window)
        if let error = publisher?.error { report.fail("publisher: \(error)") }
        if published < publishTotal { report.fail("published \(published) of \(publishTotal) events") }
        if lost > 0 || dup > 0 || disorder > 0 || short > 0 || alive < options.connections {
            report.fail("\(failedConns) of \(options.connections) connections did not get every event exactly once in order (lost \(lost), duplicated \(dup), out of order \(disorder), disconnects \(s.unexpectedCloses) \(s.closeCodes))")
        }
        finish()
    }

    private func finish() { enter(.done); pool.stop() }
}
