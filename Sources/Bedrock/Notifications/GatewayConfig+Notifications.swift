import Foundation
import JSONCodec

extension GatewayConfig {
    /// `notifications.*` (SPEC §14, docs/NOTIFICATIONS.md): signed webhooks and a Telegram chat told
    /// of the events of chosen topics, with retries for `retry_window_s`, then a dead-letter stream.
    /// Without a webhook or Telegram target nothing runs. Secrets (webhook `secret`, the bot token)
    /// are never printed: `description` and the mirror say only that they are set.
    public struct Notifications: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
        /// One webhook (`notifications.webhooks[]`).
        public struct Webhook: Sendable, Equatable {
            /// `name` (default `webhook-<n>`, its 1-based position): metric label, dead-letter field
            /// and consumer group (`<prefix>notify:<name>`); `[A-Za-z0-9._-]{1,64}`, unique.
            public var name: String
            /// `url`: an http:// or https:// URL the events are POSTed to.
            public var url: String
            /// `topics`: topic names (`signals`, `klines:BTCUSDT:1m`, …) or `user:<sub>`.
            public var topics: [String]
            /// `secret` (at least 16 characters): the HMAC-SHA256 key of `X-Bedrock-Signature`.
            public var secret: String
        }

        /// `notifications.telegram`.
        public struct Telegram: Sendable, Equatable {
            /// `bot_token`: goes into the URL path only, never into a log line or a metric.
            public var botToken: String
            /// `chat_id`: a chat id (integer) or `@channelusername`, sent as given.
            public var chatID: JSONValue
            /// `api_url` (`https://api.telegram.org`).
            public var apiURL: String
            /// `topics`: as for webhooks.
            public var topics: [String]
        }

        /// The name `notifications.telegram` takes as a delivery target (metrics, dead letters).
        public static let telegramName = "telegram"

        /// `notifications.webhooks` (none).
        public var webhooks: [Webhook] = []
        /// `notifications.telegram` (none).
        public var telegram: Telegram?
        /// `notifications.retry_window_s` (86400): failures are retried for this long from the
        /// first attempt, then the delivery goes to `<prefix>notifications:dead`.
        public var retryWindowS: Double = 86_400
        /// `notifications.backoff_base_s` (1): the longest wait after the first failure (full
        /// jitter: a uniform draw up to it), doubling after each further failure…
        public var backoffBaseS: Double = 1
        /// `notifications.backoff_max_s` (300): …up to this.
        public var backoffMaxS: Double = 300
        /// `notifications.timeout_s` (10): one POST, connect to last byte.
        public var timeoutS: Double = 10
        /// `notifications.concurrency` (8): delivery threads per webhook (deliveries in flight at
        /// once to one receiver, on this gateway); Telegram always has one.
        public var concurrency = 8
        /// `notifications.claim_idle_s` (30): an event read (or a retry taken) by a gateway that
        /// stopped before finishing it is taken over by another (or by itself after a restart)
        /// after `timeout_s` + this.
        public var claimIdleS: Double = 30
        /// `notifications.dead_maxlen` (100000): approximate cap of the dead-letter stream.
        public var deadMaxlen = 100_000

        /// The built-in defaults (no targets).
        public init() {}

        /// True when there is something to deliver to.
        public var enabled: Bool { !webhooks.isEmpty || telegram != nil }

        /// The targets and settings, secrets only as set.
        public var description: String {
            let hooks = webhooks.map { "\($0.name) → \(LLM.printable($0.url)) \($0.topics)" }
            let tg = telegram.map { "telegram(api_url: \(LLM.printable($0.apiURL)), bot_token: set, topics: \($0.topics))" }
            return "notifications(webhooks: \(hooks), \(tg ?? "telegram: none"), retry_window_s: \(retryWindowS))"
        }

        /// What `dump` and debuggers show: no secret, no token.
        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "webhooks": webhooks.map { "\($0.name) → \(LLM.printable($0.url)) \($0.topics) secret: [redacted]" },
                    "telegram": telegram.map { "\(LLM.printable($0.apiURL)) \($0.topics) bot_token: [redacted]" } as Any,
                    "retryWindowS": retryWindowS, "backoffBaseS": backoffBaseS, "backoffMaxS": backoffMaxS,
                    "timeoutS": timeoutS, "concurrency": concurrency, "claimIdleS": claimIdleS, "deadMaxlen": deadMaxlen,
                ])
        }

        /// Reads `notifications.*`; a bad entry refuses to start with a message naming it (never
        /// quoting a secret).
        static func load(_ raw: RawConfig) throws(ConfigError) -> Notifications {
            var n = Notifications()
            n.retryWindowS = try raw.double("notifications.retry_window_s", default: n.retryWindowS, 0...31_536_000)
            n.backoffBaseS = try raw.double("notifications.backoff_base_s", default: n.backoffBaseS, 0.001...86_400)
            n.backoffMaxS = try raw.double("notifications.backoff_max_s", default: n.backoffMaxS, 0.001...86_400)
            n.timeoutS = try raw.double("notifications.timeout_s", default: n.timeoutS, 0.05...600)
            n.concurrency = try raw.int("notifications.concurrency", default: n.concurrency, 1...64)
            n.claimIdleS = try raw.double("notifications.claim_idle_s", default: n.claimIdleS, 0.1...86_400)
            n.deadMaxlen = try raw.int("notifications.dead_maxlen", default: n.deadMaxlen, 1...100_000_000)
            n.webhooks = try webhooks(raw)
            n.telegram = try telegram(raw)
            return n
        }

        private static let webhooksKey = "notifications.webhooks"
        private static let telegramKey = "notifications.telegram"

        /// The value of `key`: JSON in the file, JSON text in an environment variable.
        private static func json(_ raw: RawConfig, _ key: String) throws(ConfigError) -> JSONValue? {
            guard let (value, source) = raw.values[key], !value.isNull else { return nil }
            guard let text = value.stringValue else { return value }
            if text.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
            guard let parsed = try? JSONCodec.parse(Array(text.utf8), rejectDuplicateKeys: false) else {
                throw ConfigError(key: key, message: "must be JSON", source: source)
            }
            return parsed
        }

        private static func webhooks(_ raw: RawConfig) throws(ConfigError) -> [Webhook] {
            guard let value = try json(raw, webhooksKey) else { return [] }
            let source = raw.source(of: webhooksKey)
            guard let array = value.arrayValue else {
                throw ConfigError(
                    key: webhooksKey, message: "must be an array of {\"name\"?, \"url\", \"topics\", \"secret\"}",
                    source: source)
            }
            var out: [Webhook] = []
            for (index, item) in array.enumerated() {
                let key = "\(webhooksKey)[\(index)]"
                func fail(_ message: String) -> ConfigError { ConfigError(key: key, message: message, source: source) }
                guard let o = item.objectValue else {
                    throw fail("must be an object {\"name\"?, \"url\", \"topics\", \"secret\"}")
                }
                for member in o.members.map(\.key) where !["name", "url", "topics", "secret"].contains(member) {
                    throw fail("unknown key \"\(member)\" (known: name, url, topics, secret)")
                }
                let name = o["name"]?.stringValue ?? "webhook-\(index + 1)"
                guard o["name"] == nil || o["name"]?.stringValue != nil, isValidName(name), name != telegramName else {
                    throw fail("name must be [A-Za-z0-9._-]{1,64} and not \"telegram\"")
                }
                guard !out.contains(where: { $0.name == name }) else { throw fail("name \"\(name)\" is used twice") }
                guard let url = o["url"]?.stringValue, isHTTPURL(url) else {
                    throw fail("(\(name)) url must be an http:// or https:// URL")
                }
                guard let secret = o["secret"]?.stringValue, secret.count >= 16 else {
                    throw fail("(\(name)) secret is required: a string of at least 16 characters")
                }
                let topics: [String]
                do { topics = try self.topics(o["topics"]) } catch { throw fail("(\(name)) \(error.message)") }
                out.append(Webhook(name: name, url: url, topics: topics, secret: secret))
            }
            return out
        }

        private static func telegram(_ raw: RawConfig) throws(ConfigError) -> Telegram? {
            guard let value = try json(raw, telegramKey) else { return nil }
            func fail(_ message: String) -> ConfigError {
                ConfigError(key: telegramKey, message: message, source: raw.source(of: telegramKey))
            }
            guard let o = value.objectValue else {
                throw fail("must be an object {\"bot_token\", \"chat_id\", \"api_url\"?, \"topics\"}")
            }
            for member in o.members.map(\.key) where !["bot_token", "chat_id", "api_url", "topics"].contains(member) {
                throw fail("unknown key \"\(member)\" (known: bot_token, chat_id, api_url, topics)")
            }
            guard let token = o["bot_token"]?.stringValue, !token.isEmpty,
                token.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") })
            else {
                throw fail("bot_token is required: visible ASCII without spaces, / or ?")
            }
            let chat = o["chat_id"]
            guard let chat, chat.intValue != nil || (chat.stringValue.map { !$0.isEmpty } ?? false) else {
                throw fail("chat_id is required: an integer chat id or \"@channelusername\"")
            }
            var apiURL = o["api_url"]?.stringValue ?? "https://api.telegram.org"
            guard o["api_url"] == nil || o["api_url"]?.stringValue != nil, isHTTPURL(apiURL) else {
                throw fail("api_url must be an http:// or https:// URL")
            }
            while apiURL.hasSuffix("/") { apiURL.removeLast() }
            let topics: [String]
            do { topics = try self.topics(o["topics"]) } catch { throw fail(error.message) }
            return Telegram(botToken: token, chatID: chat, apiURL: apiURL, topics: topics)
        }

        /// A non-empty list of topic names, each a `Topic` (canonical spelling kept) or
        /// `user:<sub>`; no duplicates.
        private static func topics(_ value: JSONValue?) throws(TopicListError) -> [String] {
            guard let array = value?.arrayValue, !array.isEmpty else {
                throw TopicListError(message: "topics must be a non-empty array of topic names")
            }
            var out: [String] = []
            for item in array {
                guard let name = item.stringValue, let canonical = canonicalTopic(name) else {
                    throw TopicListError(
                        message: "unknown topic \(item.stringValue.map { "\"\($0)\"" } ?? "(not a string)") "
                            + "(a topic such as signals, portfolio, risk, klines:BTCUSDT:1m, or user:<sub>)")
                }
                if !out.contains(canonical) { out.append(canonical) }
            }
            return out
        }

        /// The canonical name of a notifiable topic, or nil. `user` alone (the subscriber's own)
        /// names nobody here: a target names the user (`user:<sub>`).
        static func canonicalTopic(_ name: String) -> String? {
            if name.hasPrefix("user:") {
                let sub = name.dropFirst(5)
                guard !sub.isEmpty, sub.utf8.count <= 256, sub.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
                return name
            }
            guard let topic = Topic(name), topic != .user else { return nil }
            return topic.name
        }

        static func isValidName(_ name: String) -> Bool {
            (1...64).contains(name.utf8.count)
                && name.utf8.allSatisfy { c in
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E
                        || c == 0x5F || c == 0x2D
                }
        }

        static func isHTTPURL(_ url: String) -> Bool {
            let lower = url.lowercased()
            for scheme in ["http://", "https://"] where lower.hasPrefix(scheme) {
                let rest = lower.dropFirst(scheme.count)
                return !rest.isEmpty && !rest.hasPrefix("/") && !url.contains(where: { $0 == " " || $0.isNewline })
            }
            return false
        }
    }
}

/// Why a `topics` list is refused (wrapped into the entry's `ConfigError`).
struct TopicListError: Error {
    let message: String
}
