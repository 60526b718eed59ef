import JSONCodec

extension APIError {
    /// UNAVAILABLE for a ledger write that too few replicas acknowledged (`LedgerError.notReplicated`),
    /// with `details` `{"replicas_required","replicas_acknowledged","timeout_ms"}`.
    static func notReplicated(_ error: LedgerError, acknowledged: Int, policy: ReplicaAcks) -> APIError {
        APIError(
            .unavailable, error.description,
            details: [
                "replicas_required": .int(Int64(policy.count)), "replicas_acknowledged": .int(Int64(acknowledged)),
                "timeout_ms": .int(Int64(policy.timeoutMillis)),
            ])
    }

    /// True for `notReplicated`: Redis answered (the master holds the write), so it is no sign
    /// that Redis is down.
    var isReplicaAckFailure: Bool { code == .unavailable && details?["replicas_required"] != nil }
}
