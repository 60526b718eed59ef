import JSONCodec

/// One event on its way to one target: the stream entry (`topic`, `id`, the event's JSON text)
/// and its history (first attempt, attempts made, last error). While it waits for a retry it is a
/// member of the target's retry set in Redis, encoded by `encoded()`.
struct Delivery: Sendable, Equatable {
    /// The configured topic name (`signals`, `user:alice`).
    var topic: String
    /// The stream entry id.
    var id: String
    /// The entry's `event` field as stored.
    var event: String
    /// Wall time of the first attempt (seconds), nil before it.
    var firstAttempt: Double?
    /// Attempts made.
    var attempts = 0
    /// What the last attempt got (`HTTP 500`, `connection failed: …`); empty before one.
    var lastError = ""

    /// The event parsed (a string when it is not JSON).
    var eventValue: JSONValue {
        (try? JSONCodec.parse(Array(event.utf8), rejectDuplicateKeys: false)) ?? .string(event)
    }

    /// The webhook body: `{"topic","id","data"}`.
    func body() -> [UInt8] {
        JSONCodec.encode(.object([("topic", .string(topic)), ("id", .string(id)), ("data", eventValue)]))
    }

    /// `<topic>/<id>`: what receivers dedupe on.
    var eventID: String { "\(topic)/\(id)" }

    /// The retry-set member.
    func encoded() -> String {
        JSONCodec.encodeString(
            .object([
                ("topic", .string(topic)), ("id", .string(id)), ("event", .string(event)),
                ("first_ms", .int(Int64(((firstAttempt ?? 0) * 1000).rounded()))), ("attempts", .int(Int64(attempts))),
                ("error", .string(lastError)),
            ]))
    }

    /// A retry-set member decoded, or nil when it is not one.
    init?(encoded text: String) {
        guard let o = (try? JSONCodec.parse(Array(text.utf8), rejectDuplicateKeys: false))?.objectValue,
            let topic = o["topic"]?.stringValue, let id = o["id"]?.stringValue, let event = o["event"]?.stringValue,
            let first = o["first_ms"]?.intValue, let attempts = o["attempts"]?.intValue
        else { return nil }
        self.init(topic: topic, id: id, event: event)
        firstAttempt = Double(first) / 1000
        self.attempts = Int(attempts)
        lastError = o["error"]?.stringValue ?? ""
    }

    /// A fresh delivery of a stream entry.
    init(topic: String, id: String, event: String) {
        self.topic = topic
        self.id = id
        self.event = event
    }
}
