import Foundation
import RedisClient
import XCTest

@testable import Bedrock

#if canImport(Glibc)
    import Glibc
#endif

/// A real `redis-server` for integration tests: a free TCP port on 127.0.0.1, its own temp
/// directory (AOF on with `appendfsync always`, so a killed server restarts with its data), no
/// RDB snapshots. Reusable by every test class:
///
/// ```swift
/// let redis = try RedisTestServer()        // started, PING answered
/// let conn = try redis.connect()
/// redis.kill(); try redis.start()          // crash and restart on the same port and data
/// redis.shutdown()                         // also done by deinit, which deletes the directory
/// ```
///
/// Threading: drive it from the test's thread.
final class RedisTestServer {
    /// The TCP port the server listens on (fixed for the object's lifetime, kept across restarts).
    let port: Int
    /// The temp directory holding AOF files and `redis.log`; deleted by `deinit`.
    let directory: URL
    /// Extra `redis-server` arguments given to `init` (e.g. `["--requirepass", "secret"]`).
    let extraArguments: [String]
    /// The password clients must send, when `extraArguments` set one.
    let password: String?
    private var process: Process?

    /// Picks a free port and a fresh temp directory, then starts the server.
    /// - Parameter password: when set, the server requires it (`--requirepass`) and `address` carries it.
    init(password: String? = nil) throws {
        self.password = password
        extraArguments = password.map { ["--requirepass", $0] } ?? []
        port = try RedisTestServer.freePort()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bedrock-redis-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The address to connect to.
    var address: RedisAddress { RedisAddress(host: "127.0.0.1", port: port, password: password) }

    /// A new connection to the server.
    func connect() throws -> RedisConnection { try RedisConnection(address) }

    /// True while the server process runs.
    var isRunning: Bool { process?.isRunning ?? false }

    /// Starts (or restarts) the server on `port` with the same directory; waits up to 10 s for PING.
    func start() throws {
        guard process == nil else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try EmbeddedRedis.locateServer())
        p.arguments =
            [
                "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path,
                "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path,
            ]
            + extraArguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let conn = try? RedisConnection(address, connectTimeout: 0.2),
                (try? conn.command(["PING"])) == .status("PONG")
            {
                return
            }
            if !p.isRunning { break }
            usleep(20_000)
        }
        shutdown()
        throw RedisError.embedded("test redis-server did not start on port \(port)")
    }

    /// Kills the server with SIGKILL (a crash) and waits for it to exit.
    func kill() {
        guard let p = process else { return }
        process = nil
        sendSignal(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// Freezes the server (SIGSTOP): it still accepts TCP connections through the kernel's
    /// backlog but answers nothing until `resume()`.
    func pause() {
        if let p = process { sendSignal(p.processIdentifier, SIGSTOP) }
    }

    /// Lets a paused server go on (SIGCONT).
    func resume() {
        if let p = process { sendSignal(p.processIdentifier, SIGCONT) }
    }

    /// Stops the server with SIGTERM and waits for it to exit; one that is still running 5 s later
    /// (seen once under ASan: a replica paused and resumed outlived its SIGTERM) gets SIGKILL, so
    /// a test never hangs here. Safe to call twice.
    func shutdown() {
        guard let p = process else { return }
        process = nil
        sendSignal(p.processIdentifier, SIGCONT)  // a paused server would never see the SIGTERM
        sendSignal(p.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while p.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        if p.isRunning { sendSignal(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    /// A TCP port that was free a moment ago (bind to port 0, read it back, close).
    static func freePort() throws -> Int {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw RedisError.io("socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard bound else { throw RedisError.io("bind failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// `kill(2)` under another name: inside `RedisTestServer` the method `kill()` shadows it.
private func sendSignal(_ pid: pid_t, _ signal: Int32) {
    _ = kill(pid, signal)
}

/// Collects what a bridge hands to its sink and status callback, for assertions.
final class BridgeRecorder: @unchecked Sendable {
    // @unchecked Sendable: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var _events: [BridgedEvent] = []
    private var _statuses: [Bool] = []
    private var _batches = 0

    var events: [BridgedEvent] { condition.lock(); defer { condition.unlock() }; return _events }
    var statuses: [Bool] { condition.lock(); defer { condition.unlock() }; return _statuses }

    func sink(_ batch: [BridgedEvent]) {
        condition.lock()
        _events += batch
        _batches += 1
        condition.broadcast()
        condition.unlock()
    }

    func status(_ up: Bool) {
        condition.lock()
        _statuses.append(up)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until `predicate(events, statuses)` holds; false after `timeout` seconds.
    @discardableResult
    func wait(timeout: Double = 5, until predicate: ([BridgedEvent], [Bool]) -> Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while !predicate(_events, _statuses) {
            if !condition.wait(until: deadline) { return predicate(_events, _statuses) }
        }
        return true
    }
}

/// Waits for a value delivered on another thread (an activation's position).
final class Promise<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `value` is guarded by `condition`.
    private let condition = NSCondition()
    private var value: T?

    func fulfill(_ v: T) {
        condition.lock()
        value = v
        condition.broadcast()
        condition.unlock()
    }

    func wait(timeout: Double = 5) -> T? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while value == nil { if !condition.wait(until: deadline) { break } }
        return value
    }
}

/// Parses a frame into a JSON object for assertions.
func frameObject(_ event: BridgedEvent) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(event.frame))) as? [String: Any]
}
