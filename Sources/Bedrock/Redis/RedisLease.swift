import RedisClient

/// A lease in Redis: a key holding its owner's name with a time to live. One owner at a time
/// (the live engine's streams, the ingest's markets); the owner renews it well within the time to
/// live, and a stopped owner's lease moves to another after it.
enum RedisLease {
    /// Takes `key` for `owner` for `millis` when it is free or already `owner`'s; true when held.
    static func acquire(_ key: String, owner: String, millis: Int, on connection: RedisConnection) throws -> Bool {
        try connection.command(["EVAL", acquireScript, "1", key, owner, String(millis)]).checked().integer == 1
    }

    /// Extends `key` by `millis` when `owner` holds it; false when it does not any more.
    static func renew(_ key: String, owner: String, millis: Int, on connection: RedisConnection) throws -> Bool {
        try connection.command(["EVAL", renewScript, "1", key, owner, String(millis)]).checked().integer == 1
    }

    /// Gives `key` up when `owner` holds it.
    static func release(_ key: String, owner: String, on connection: RedisConnection) throws {
        _ = try connection.command(["EVAL", releaseScript, "1", key, owner]).checked()
    }

    /// `PEXPIRE KEYS[1] ARGV[2]` when it holds ARGV[1]; 1 when renewed.
    static let renewScript =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
    /// Takes KEYS[1] for ARGV[1] for ARGV[2] ms when free or already ARGV[1]'s; 1 when taken.
    static let acquireScript =
        "local v = redis.call('GET', KEYS[1]) "
        + "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end "
        + "if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end return 0"
    /// `DEL KEYS[1]` when it holds ARGV[1].
    static let releaseScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
}
