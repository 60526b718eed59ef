import Digests
import GatewayCore
import HTTPClient
import JSONCodec

/// Where deliveries go and how: a webhook (signed JSON POST) or the Telegram Bot API's
/// `sendMessage`. Builds the request of a delivery and reads the answer; no I/O of its own.
struct NotificationTarget: Sendable {
    /// The two kinds of receiver.
    enum Kind: Sendable {
        /// POST the event, signed with `secret`.
        case webhook(url: String, secret: String)
        /// POST `sendMessage` (`url` is `{api_url}/bot{token}/sendMessage`: it holds the token and
        /// is never logged; HTTPClient's errors leave the path out).
        case telegram(url: String, chatID: JSONValue)
    }

    /// Metric label, dead-letter field, group suffix.
    let name: String
    /// Configured topic names.
    let topics: [String]
    let kind: Kind
    /// Delivery threads on this gateway.
    let threads: Int

    var isTelegram: Bool {
        if case .telegram = kind { return true }
        return false
    }

    /// The targets of a configuration (webhooks in order, then Telegram).
    static func all(_ config: GatewayConfig.Notifications) -> [NotificationTarget] {
        var out = config.webhooks.map {
            NotificationTarget(
                name: $0.name, topics: $0.topics, kind: .webhook(url: $0.url, secret: $0.secret),
                threads: config.concurrency)
        }
        if let t = config.telegram {
            out.append(
                NotificationTarget(
                    name: GatewayConfig.Notifications.telegramName, topics: t.topics,
                    kind: .telegram(url: "\(t.apiURL)/bot\(t.botToken)/sendMessage", chatID: t.chatID), threads: 1))
        }
        return out
    }

    /// The request for `delivery` sent at `now` (wall seconds), or nil when there is nothing to
    /// send (an event Telegram is not told of).
    func request(for delivery: Delivery, now: Double, timeout: Double) -> HTTPClient.Request? {
        let body: [UInt8]
        var headers = HTTPClient.Headers()
        headers.add("Content-Type", "application/json")
        let url: String
        switch kind {
        case .webhook(let hookURL, let secret):
            url = hookURL
            body = delivery.body()
            headers.add("X-Bedrock-Signature", "sha256=" + HMACSHA256.hex(key: secret, message: body))
            headers.add("X-Bedrock-Event-Id", delivery.eventID)
            headers.add("X-Bedrock-Timestamp", Timestamp.rfc3339(seconds: now))
        case .telegram(let sendURL, let chatID):
            guard let text = TelegramText.message(topic: delivery.topic, event: delivery.eventValue) else { return nil }
            url = sendURL
            body = JSONCodec.encode(
                .object([("chat_id", chatID), ("text", .string(text)), ("disable_web_page_preview", .bool(true))]))
        }
        let total = Duration.milliseconds(Int64(timeout * 1000))
        return HTTPClient.Request(
            method: .post, url: url, headers: headers, body: body, timeout: total, connectTimeout: min(total, .seconds(5)))
    }

    /// How an answer ends the attempt, and the error text kept with a failure.
    func outcome(of response: HTTPClient.Response) -> (DeliveryPolicy.Outcome, String) {
        if (200...299).contains(response.status) { return (.delivered, "") }
        var retryAfter: Double?
        if isTelegram, response.status == 429,
            let answer = try? JSONCodec.parse(response.body, rejectDuplicateKeys: false),
            let seconds = answer["parameters"]?["retry_after"]?.doubleValue
        {
            retryAfter = seconds
        }
        return (.failed(retryAfter: retryAfter), "HTTP \(response.status)")
    }
}
