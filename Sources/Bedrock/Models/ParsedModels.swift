import TradingCore

/// The registry's cache of parsed models by `name@version`: bounded by a count and by the total
/// bytes of the model texts they were parsed from, evicting the least recently used first (the
/// newest entry always stays, whatever its size). Not thread-safe: `ModelRegistry` keeps it in a
/// `Mutex`. Eviction scans the entries (a few dozen at most).
struct ParsedModels {
    private struct Entry {
        var ensemble: TreeEnsemble
        var bytes: Int
        var used: UInt64
    }

    /// Most entries kept.
    let countLimit: Int
    /// Most model-text bytes kept (over all entries).
    let byteLimit: Int
    private var entries: [String: Entry] = [:]
    private var bytes = 0
    private var tick: UInt64 = 0

    init(countLimit: Int, byteLimit: Int) {
        self.countLimit = max(countLimit, 1); self.byteLimit = byteLimit
    }

    /// The parsed model of `reference`, marked as just used; nil when not cached.
    mutating func get(_ reference: String) -> TreeEnsemble? {
        guard entries[reference] != nil else { return nil }
        tick += 1
        entries[reference]!.used = tick
        return entries[reference]!.ensemble
    }

    /// Caches `ensemble` (parsed from `bytes` bytes of text) as `reference`, evicting the least
    /// recently used entries until both limits hold.
    mutating func put(_ reference: String, _ ensemble: TreeEnsemble, bytes size: Int) {
        tick += 1
        if let old = entries.updateValue(Entry(ensemble: ensemble, bytes: size, used: tick), forKey: reference) {
            bytes -= old.bytes
        }
        bytes += size
        while entries.count > countLimit || (bytes > byteLimit && entries.count > 1) {
            guard let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key else { break }
            bytes -= entries.removeValue(forKey: oldest)!.bytes
        }
    }

    /// The cached references (tests).
    var references: Set<String> { Set(entries.keys) }
}
