import Foundation
import RedisClient
import Synchronization

/// Runs the ledger's Lua scripts (`Sources/Bedrock/Lua/*.lua`, shipped as package resources)
/// with `EVALSHA`, loading them with `SCRIPT LOAD` on first use and again, transparently, when
/// Redis answers `NOSCRIPT` (after a restart or `SCRIPT FLUSH`).
///
/// The text run for ledger script `name` is `common.lua` followed by `name.lua`: the shared
/// prelude (argument decoding, money helpers, event writer) and the script body. A runner made
/// with `init(standalone:)` runs its scripts as they are (e.g. `append_klines`).
///
/// Threading: the SHA cache sits in a `Mutex`, so one runner is shared by every thread; each
/// call uses the caller's own `RedisConnection`.
public final class ScriptRunner: Sendable {
    private let sources: [String: String]
    /// Script name → SHA once loaded (any thread).
    private let shas = Mutex<[String: String]>([:])

    /// Script names the ledger uses.
    public static let names = [
        "record_signal", "open_position", "mark_position", "close_position",
        "set_kill_switch", "risk_alert", "risk_snapshot", "market_data_gap", "market_data_alert",
        "model_add", "model_deploy", "model_alert", "news_publish", "explain_signal", "llm_alert",
        "sentiment_update", "engine_configure", "engine_alert",
    ]

    /// Loads the ledger's script texts from `directory` (default: the package's `Lua` resources).
    public convenience init(directory: URL? = nil) throws {
        try self.init(ScriptRunner.names, prelude: "common", directory: directory)
    }

    /// Loads the scripts `names` from `directory` (default: the package's `Lua` resources), each
    /// run as it is, without the ledger's prelude.
    public convenience init(standalone names: [String], directory: URL? = nil) throws {
        try self.init(names, prelude: nil, directory: directory)
    }

    private init(_ names: [String], prelude: String?, directory: URL?) throws {
        guard let dir = directory ?? ScriptRunner.resourceDirectory() else {
            throw LedgerError.scripts("the Lua script directory (Bedrock resources) was not found")
        }
        let common = try prelude.map { try ScriptRunner.read(dir, $0) + "\n" } ?? ""
        var sources: [String: String] = [:]
        for name in names {
            sources[name] = common + (try ScriptRunner.read(dir, name))
        }
        self.sources = sources
    }

    /// The full text run for `name` (prelude + body).
    public func source(_ name: String) -> String? { sources[name] }

    /// `EVALSHA <sha> <#keys> keys... args...`; on `NOSCRIPT`, `SCRIPT LOAD` and retry once.
    public func run(_ name: String, keys: [String] = [], args: [String], on connection: RedisConnection) throws -> RedisReply {
        guard let source = sources[name] else { throw LedgerError.scripts("no script \(name)") }
        let cached = shas.withLock { $0[name] }
        let sha = try cached ?? load(name, source, on: connection)
        let tail = [String(keys.count)] + keys + args
        let reply = try connection.command(["EVALSHA", sha] + tail)
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            let fresh = try load(name, source, on: connection)
            return try connection.command(["EVALSHA", fresh] + tail).checked()
        }
        return try reply.checked()
    }

    /// The SHA of script `name`, loaded (`SCRIPT LOAD`) on first use: for a caller that pipelines
    /// `EVALSHA` itself (a `NOSCRIPT` reply then goes through `run`, which loads it again).
    public func sha(_ name: String, on connection: RedisConnection) throws -> String {
        guard let source = sources[name] else { throw LedgerError.scripts("no script \(name)") }
        if let cached = shas.withLock({ $0[name] }) { return cached }
        return try load(name, source, on: connection)
    }

    /// `SCRIPT LOAD` every script now (the gateway's startup, so `/health/startup` can say they
    /// are in); later runs use the cached SHAs.
    public func loadAll(on connection: RedisConnection) throws {
        for (name, source) in sources { _ = try load(name, source, on: connection) }
    }

    private func load(_ name: String, _ source: String, on connection: RedisConnection) throws -> String {
        let reply = try connection.command(["SCRIPT", "LOAD", source]).checked()
        guard let sha = reply.string else { throw LedgerError.scripts("SCRIPT LOAD answered \(reply)") }
        shas.withLock { $0[name] = sha }
        return sha
    }

    private static func read(_ dir: URL, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name + ".lua")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw LedgerError.scripts("cannot read \(url.path)")
        }
        return text
    }

    /// `Bedrock_Bedrock.resources/Lua` next to the executable, else `Bundle.module`'s `Lua`.
    static func resourceDirectory() -> URL? {
        let fm = FileManager.default
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let beside = exe.deletingLastPathComponent().appendingPathComponent("Bedrock_Bedrock.resources/Lua")
        if fm.fileExists(atPath: beside.appendingPathComponent("common.lua").path) { return beside }
        if let url = Bundle.module.url(forResource: "Lua", withExtension: nil),
            fm.fileExists(atPath: url.appendingPathComponent("common.lua").path)
        {
            return url
        }
        return nil
    }
}

/// Ledger failures that are not a client's fault (answered INTERNAL / UNAVAILABLE).
public enum LedgerError: Error, Sendable, CustomStringConvertible {
    /// The Lua scripts could not be found or loaded.
    case scripts(String)
    /// A script answered something unexpected.
    case reply(String)
    /// `write` is on the master (done now, or by the earlier call this one repeated) but fewer
    /// replicas than `policy.count` acknowledged it within `policy.timeoutMillis`, or fewer
    /// were connected (answered UNAVAILABLE, saying it was committed).
    case notReplicated(acknowledged: Int, policy: ReplicaAcks, write: LedgerWrite)

    public var description: String {
        switch self {
        case .scripts(let m): return "ledger scripts: \(m)"
        case .reply(let m): return "ledger: \(m)"
        case let .notReplicated(acknowledged, policy, _):
            return "the write was not confirmed by \(policy.count) replica(s) within \(policy.timeoutMillis) ms "
                + "(\(acknowledged) acknowledged); it is stored on the master but may be lost if the master fails"
        }
    }
}
