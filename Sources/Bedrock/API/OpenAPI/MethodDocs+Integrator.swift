import JSONCodec

/// Documentation of the integrator methods (SPEC §14): publish, history, presence and the
/// administrator's disconnect.
extension MethodDocs {
    static let integrator: [Method: MethodDoc] = [
        .eventsPublish: MethodDoc(
            tag: "Integrator",
            summary: "Append an event to a topic's stream (or to one user's, `user:<sub>`), at most once per idempotency key.",
            details:
                "`data` gets `event_type` \"message\", `timestamp` and `schema_version` \"2.0\" when missing. The same `idempotency_key` within 24 h answers the first id with `duplicate: true` and appends nothing; with another topic or data it is 409 CONFLICT.",
            fields: [
                .required(
                    "topic", .string, "a topic name (`signals`, `klines:BTCUSDT:1m`, …) or `user:<sub>`", example: "signals"),
                .required(
                    "data", .object, "the event, a JSON object up to 64 KiB", example: ["event_type": "note", "text": "hello"]),
                .optional("idempotency_key", .string, "1-200 printable ASCII characters", example: "order-8812"),
            ], response: ["id": "1733583600123-0", "topic": "signals", "duplicate": false]),
        .eventsHistory: MethodDoc(
            tag: "Integrator",
            summary: "A topic's stored events with their ids; the topic's subscribe role applies.",
            details:
                "`user` is the caller's own topic; `user:<sub>` is for ADMIN only. `since` is exclusive: events after it, or before it with `reverse=true` (newest first). `next` is the last id read when `limit` entries were read (pass it as `since` for the next page), null at the end; entries that are not JSON objects are left out, so a page may hold fewer events than `limit`, even none, while `next` is not null.",
            fields: [
                .required("topic", .string, "topic name", example: "signals"),
                .optional("since", .string, "a stream id, exclusive", example: "1733583600123-0"),
                .optional("limit", .integer, "1-1000 (default 100)"),
                .optional("reverse", .boolean, "newest first"),
            ],
            response: [
                "topic": "signals",
                "events": [
                    [
                        "id": "1733583600123-0",
                        "data": [
                            "event_type": "note", "text": "hello", "timestamp": "2026-12-07T15:00:00.123Z",
                            "schema_version": "2.0",
                        ],
                    ]
                ],
                "next": "1733583600123-0",
            ]),
        .presenceGet: MethodDoc(
            tag: "Integrator", summary: "Who is connected, over every gateway (optionally only to one topic).",
            fields: [.optional("topic", .string, "only connections subscribed to this topic (wire name)", example: "signals")],
            response: [
                "total_connections": 3,
                "users": [["sub": "alice", "role": "TRADER", "connections": 2, "since": "2026-12-07T14:10:00.000Z"]],
                "gateways": 2,
            ]),
        .adminDisconnect: MethodDoc(
            tag: "Integrator",
            summary: "Close every socket of a user on every gateway (4403); with `revoke`, refuse the tokens issued before now.",
            details: "API-key identities (`apikey:<name>`) cannot be revoked this way: remove the key from `api.keys`.",
            fields: [
                .required("sub", .string, "the user", example: "mallory"),
                .optional("revoke", .boolean, "also refuse tokens issued before now (default false)", example: true),
            ],
            response: ["sub": "mallory", "revoke": true, "revoked_before": "2026-12-07T15:00:00.000Z", "connections": 2]),
    ]
}
