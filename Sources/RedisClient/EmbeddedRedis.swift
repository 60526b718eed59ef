import Foundation

/// A private `redis-server` child process for the embedded default (SPEC §1, §3): unix socket
/// `<dataDir>/redis.sock` only (no TCP port), AOF on, log in `<dataDir>/redis.log`.
///
/// Threading: call `start`/`stop` from one thread (the process's startup/shutdown path).
public final class EmbeddedRedis: @unchecked Sendable {
    // @unchecked Sendable: `process` is set in `start()` and cleared in `stop()`, both called by
    // the owner's single startup/shutdown thread; `Process` itself is thread-safe for
    // `isRunning`/`terminate`.
    /// The data directory holding the socket, the AOF files and the log.
    public let dataDir: URL
    /// Address clients use: the unix socket in `dataDir`.
    public var address: RedisAddress { RedisAddress(unixPath: socketPath) }
    /// `<dataDir>/redis.sock`.
    public var socketPath: String { dataDir.appendingPathComponent("redis.sock").path }
    /// `<dataDir>/redis.log`.
    public var logPath: String { dataDir.appendingPathComponent("redis.log").path }
    private var process: Process?

    /// Prepares (does not start) a server for `dataDir`.
    public init(dataDir: URL) {
        self.dataDir = dataDir.standardizedFileURL
    }

    deinit { if process != nil { stop() } }

    /// Finds `redis-server` on `searchPath` (a `PATH`-style list; defaults to this process's PATH).
    public static func locateServer(searchPath: String? = nil) throws(RedisError) -> String {
        let path = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw .embedded("redis-server not found on PATH: install the Debian package redis-server (apt-get install redis-server)")
    }

    /// Starts the server and waits (at most `timeout` seconds) until it answers PING.
    /// Fails if `redis-server` is missing, if another server already answers on the socket, or
    /// if it does not come up in time (the error quotes the last lines of its log).
    public func start(searchPath: String? = nil, timeout: Double = 10) throws(RedisError) {
        guard process == nil else { return }
        let executable = try EmbeddedRedis.locateServer(searchPath: searchPath)
        let fm = FileManager.default
        do {
            try fm.createDirectory(
                at: dataDir, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw .embedded("cannot create Redis data directory \(dataDir.path): \(error.localizedDescription)")
        }
        guard socketPath.utf8.count < 100 else {
            throw .embedded(
                "Redis socket path too long for a unix socket (\(socketPath.utf8.count) bytes): choose a shorter data_dir")
        }
        if fm.fileExists(atPath: socketPath) {
            if let live = try? RedisConnection(address, connectTimeout: 0.5) {
                guard let owner = ownerPID(), !EmbeddedRedis.isAlive(owner) else {
                    throw .embedded(
                        "a Redis server is already running on \(socketPath): is another bedrock using data_dir \(dataDir.path)?")
                }
                // Orphan of a bedrock that crashed: shut it down (its AOF keeps the data) and
                // start our own child, so this process owns the server it will stop.
                _ = try? live.command(["SHUTDOWN"])
                let deadline = Date().addingTimeInterval(5)
                while Date() < deadline, (try? RedisConnection(address, connectTimeout: 0.2)) != nil {
                    usleep(50_000)
                }
            }
            try? fm.removeItem(atPath: socketPath)  // stale socket from a crashed run
        }
        if !fm.fileExists(atPath: logPath) { _ = fm.createFile(atPath: logPath, contents: nil) }
        let log = FileHandle(forWritingAtPath: logPath)
        log?.seekToEndOfFile()

        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = [
            "--port", "0", "--unixsocket", socketPath, "--unixsocketperm", "700",
            "--dir", dataDir.path, "--appendonly", "yes", "--save", "",
            "--daemonize", "no", "--logfile", logPath,
        ]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = log ?? FileHandle.nullDevice
        p.standardError = log ?? FileHandle.nullDevice
        do { try p.run() } catch {
            throw .embedded("cannot start \(executable): \(error.localizedDescription)")
        }
        try? log?.close()
        process = p

        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !p.isRunning { break }
            if let conn = try? RedisConnection(address, connectTimeout: 0.5),
                (try? conn.command(["PING"])) == .status("PONG")
            {
                try? String(getpid()).write(toFile: ownerPath, atomically: true, encoding: .utf8)
                return
            }
            usleep(50_000)
        }
        let exited = !p.isRunning
        if !exited { p.terminate(); p.waitUntilExit() }
        process = nil
        throw .embedded(
            "embedded redis-server \(exited ? "exited" : "did not answer PING within \(Int(timeout)) s"); last lines of \(logPath):\n\(tailOfLog())"
        )
    }

    /// Asks the server to shut down (SHUTDOWN, then SIGTERM, then SIGKILL after 5 s) and waits
    /// for it to exit. Safe to call twice.
    public func stop() {
        guard let p = process else { return }
        process = nil
        defer { try? FileManager.default.removeItem(atPath: ownerPath) }
        if p.isRunning, let conn = try? RedisConnection(address, connectTimeout: 0.5, readTimeout: 5) {
            _ = try? conn.command(["SHUTDOWN"])  // the reply is the connection closing
        }
        if waitForExit(p, seconds: 5) { return }
        p.terminate()
        if waitForExit(p, seconds: 5) { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// `<dataDir>/redis.owner`: the pid of the bedrock process that started the server, so a
    /// later start can tell an orphan (owner gone) from a server another live process uses.
    var ownerPath: String { dataDir.appendingPathComponent("redis.owner").path }

    private func ownerPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: ownerPath, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// True while the child process runs.
    public var isRunning: Bool { process?.isRunning ?? false }

    private func waitForExit(_ p: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { return false }
        p.waitUntilExit()
        return true
    }

    private func tailOfLog(lines: Int = 10) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
