import GatewayCore
import RedisClient

/// Appends events to topic streams (SPEC §7): one field `event` holding the JSON text, capped with
/// an approximate `MAXLEN ~`.
public enum StreamAppend {
    /// `XADD <prefix>stream:<topic> MAXLEN ~ <maxLength> * event <json>`; returns the new entry id.
    /// - Parameter maxLength: approximate cap (Redis trims whole nodes, so a stream may hold a
    ///   little more); nil appends without trimming.
    @discardableResult
    public static func append(
        _ connection: RedisConnection, topic: String, eventJSON: String,
        maxLength: Int? = 100_000, prefix: String = "bedrock:"
    ) throws(RedisError) -> String {
        var args = ["XADD", StreamKeys.key(prefix: prefix, topic: topic)]
        if let maxLength { args += ["MAXLEN", "~", String(maxLength)] }
        args += ["*", "event", eventJSON]
        let reply = try connection.command(args).checked()
        guard let id = reply.string else { throw .unexpectedReply("XADD answered \(reply)") }
        return id
    }
}
