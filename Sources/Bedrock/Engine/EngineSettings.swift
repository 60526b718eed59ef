import Foundation
import TradingCore

/// What the live engine needs from configuration (`engine.*`, `redis.prefix`, the arbiter).
///
/// | key | default | meaning |
/// |---|---|---|
/// | `engine.strategies` | `["pullback","oops"]` | strategies run on every closed bar: names (defaults, every market) or `{"name","params","markets"}`; `[]` disables the engine |
/// | `engine.history_bars` | 500 | bars of rolling history per market + interval (and per rebuild) |
/// | `engine.group` | `engine` | consumer group name (the key prefix is put in front) |
/// | `engine.consumer` | `<hostname>-<pid>` | this gateway's consumer name in the group |
/// | `engine.start_from` | `0` | where a new group starts on an existing stream: `0` every retained bar, `$` only new ones |
/// | `engine.claim_idle_ms` | 30000 | a pending bar idle this long (its consumer crashed) is claimed |
/// | `engine.lease_ms` | 10000 | a stream's owner renews its lease within this; a crashed owner's streams are taken over after it |
/// | `engine.discover_interval_ms` | 2000 | how often new `stream:klines:*` streams are looked for |
/// | `engine.clock` | `bar` | ledger time of a bar's writes: `bar` (the bar's close time) or `wall` |
/// | `engine.trade_history` | false | history bars (`"backfill": true`) only warm the strategies up; true trades them like live bars |
public struct EngineSettings: Sendable, Equatable {
    /// Key prefix, e.g. `bedrock:`.
    public var prefix: String
    /// Strategy registry names to run (setting it runs each on every market with `parameters`).
    public var strategies: [String] {
        get { live.map(\.name) }
        set { live = newValue.map { LiveStrategy(name: $0, parameters: parameters[$0] ?? [:]) } }
    }
    /// Raw parameters per strategy name for `strategies` (defaults filled by the registry).
    public var parameters: [String: [String: Double]] {
        didSet { live = live.map { LiveStrategy(name: $0.name, parameters: parameters[$0.name] ?? [:], markets: $0.markets) } }
    }
    /// The live strategies in full (`engine.strategies`): name, parameters, markets.
    public var live: [LiveStrategy]
    /// Bars of rolling history kept per market + interval.
    public var historyBars: Int
    /// Group name without the prefix.
    public var group: String
    /// This process's consumer name.
    public var consumer: String
    /// `0` or `$`: the first id of a newly created group.
    public var startFrom: String
    /// Minimum idle time before another consumer's pending bar is claimed.
    public var claimIdleMillis: Int
    /// Stream lease time (ms): one engine at a time owns a stream and renews every third of it.
    public var leaseMillis: Int
    /// How often `XAUTOCLAIM` runs (ms).
    public var claimIntervalMillis: Int
    /// How often streams are discovered with `SCAN` (ms).
    public var discoverIntervalMillis: Int
    /// `XREADGROUP BLOCK` time (ms); also bounds how long `stop()` waits.
    public var blockMillis: Int
    /// Bars read per `XREADGROUP`.
    public var batch: Int
    /// True: ledger writes are stamped with the bar's close time; false: the wall clock.
    public var barClock: Bool
    /// The arbiter's weights and threshold (the same as the backtests').
    public var arbiter: ArbiterConfig
    /// False (default): a history bar (`StreamBar.backfill`) feeds the strategies but writes nothing
    /// to the ledger (no signal, entry, fill, mark or close); true: it is traded like a live bar.
    public var tradeHistory: Bool

    /// Creates settings; every argument has the documented default.
    public init(
        prefix: String = "bedrock:", strategies: [String] = ["pullback", "oops"],
        parameters: [String: [String: Double]] = [:], live: [LiveStrategy]? = nil, historyBars: Int = 500,
        group: String = "engine",
        consumer: String? = nil, startFrom: String = "0", claimIdleMillis: Int = 30_000,
        claimIntervalMillis: Int = 5_000, leaseMillis: Int = 10_000, discoverIntervalMillis: Int = 2_000, blockMillis: Int = 500,
        batch: Int = 100, barClock: Bool = true, arbiter: ArbiterConfig = .default, tradeHistory: Bool = false
    ) {
        self.prefix = prefix; self.parameters = parameters
        self.live = live ?? strategies.map { LiveStrategy(name: $0, parameters: parameters[$0] ?? [:]) }
        self.historyBars = max(2, historyBars); self.group = group
        self.consumer = consumer ?? EngineSettings.defaultConsumer()
        self.startFrom = startFrom; self.claimIdleMillis = claimIdleMillis
        self.claimIntervalMillis = claimIntervalMillis; self.leaseMillis = max(300, leaseMillis)
        self.discoverIntervalMillis = discoverIntervalMillis
        self.blockMillis = blockMillis; self.batch = batch; self.barClock = barClock; self.arbiter = arbiter
        self.tradeHistory = tradeHistory
    }

    /// The consumer group key: `<prefix><group>`.
    public var groupName: String { prefix + group }

    /// `<hostname>-<pid>`.
    public static func defaultConsumer() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Checks that every strategy name is registered and a strategy can be made with its
    /// parameters (ranges and their combination).
    public func validate() throws {
        for s in live { _ = try StrategyRegistry.make(name: s.name, parameters: s.parameters) }
    }

    /// The live strategies that run on `market`, in configuration order.
    public func strategies(on market: String) -> [LiveStrategy] { live.filter { $0.runs(on: market) } }

    /// The parameters (defaults filled in) strategy `name` runs with on `market`; nil when it
    /// does not run there.
    public func resolvedParameters(of name: String, on market: String) -> [String: Double]? {
        guard let s = live.first(where: { $0.name == name && $0.runs(on: market) }) else { return nil }
        return try? StrategyRegistry.descriptor(named: name).resolve(s.parameters).values
    }
}
