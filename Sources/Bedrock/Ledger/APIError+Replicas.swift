import JSONCodec

extension APIError {
    /// UNAVAILABLE for a ledger write that too few replicas acknowledged (`LedgerError.notReplicated`),
    /// with `details` `{"committed": true, "status", "id", "trade_id", "event_id",
    /// "replicas_required", "replicas_acknowledged", "timeout_ms"}` (`id`, `trade_id`, `event_id`
    /// when known): the write is on the master, so a client must not take the 503 for "nothing
    /// happened" (a retry answers the same write again).
    static func notReplicated(_ error: LedgerError, acknowledged: Int, policy: ReplicaAcks, write: LedgerWrite) -> APIError {
        var details: JSONObject = [
            "committed": .bool(true), "status": .string(write.status),
            "replicas_required": .int(Int64(policy.count)), "replicas_acknowledged": .int(Int64(acknowledged)),
            "timeout_ms": .int(Int64(policy.timeoutMillis)),
        ]
        if let id = write.id { details["id"] = .int(id) }
        if let tradeID = write.tradeID { details["trade_id"] = .int(tradeID) }
        if let eventID = write.eventID { details["event_id"] = .string(eventID) }
        return APIError(.unavailable, error.description, details: details)
    }

    /// True for `notReplicated`: Redis answered (the master holds the write), so it is no sign
    /// that Redis is down.
    var isReplicaAckFailure: Bool { code == .unavailable && details?["replicas_required"] != nil }
}
