import Foundation

/// Readings from `/proc/<pid>` (Linux): resident memory and CPU time.
enum ProcStats {
    /// VmRSS in KiB, nil when the process or the field is missing.
    static func rssKB(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    /// User + system CPU seconds used so far (fields 14 and 15 of `/proc/<pid>/stat`).
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name start at field 3 (state).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / (ticks > 0 ? ticks : 100)
    }

    /// Raise the soft open-file limit to the hard limit; returns the new soft limit.
    @discardableResult
    static func raiseFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }
}

extension ProcStats {
    /// Machine-wide `(busy, total)` jiffies summed over all cores, from the `cpu` line of `/proc/stat`.
    static func machineJiffies() -> (busy: Double, total: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard v.count >= 5 else { return nil }
        let total = v.prefix(8).reduce(0, +)
        return (total - v[3] - v[4], total)  // idle and iowait are not busy
    }
}

/// CPU seconds of two processes (the gateway and this load generator) over one window.
struct CPUWindow {
    private let serverPID: Int32?
    private let startWall = ClockNs.monotonic()
    private let startServer: Double?
    private let startSelf: Double?
    private let startMachine: (busy: Double, total: Double)?

    /// Begin the window now.
    init(serverPID: Int32?) {
        self.serverPID = serverPID
        startServer = serverPID.flatMap { ProcStats.cpuSeconds($0) }
        startSelf = ProcStats.cpuSeconds(getpid())
        startMachine = ProcStats.machineJiffies()
    }

    /// `(wall seconds, server CPU %, loadtest CPU %, whole machine busy %)` since `init`;
    /// 100 % is one core (the machine figure goes up to 100 × cores).
    func end() -> (wall: Double, server: Double?, client: Double?, machine: Double?) {
        let wall = Double(ClockNs.monotonic() - startWall) / 1e9
        func pct(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b, wall > 0 else { return nil }
            return (b - a) / wall * 100
        }
        var machine: Double?
        if let a = startMachine, let b = ProcStats.machineJiffies(), b.total > a.total {
            machine = (b.busy - a.busy) / (b.total - a.total) * 100 * Double(ProcessInfo.processInfo.activeProcessorCount)
        }
        return (
            wall, pct(startServer, serverPID.flatMap { ProcStats.cpuSeconds($0) }),
            pct(startSelf, ProcStats.cpuSeconds(getpid())), machine
        )
    }
}
