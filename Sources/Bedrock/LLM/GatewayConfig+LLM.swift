import Foundation

extension GatewayConfig {
    /// `llm.*` (SPEC §12): the model Bedrock asks for news sentiment, signal explanations, trade
    /// journal entries and review memos. With `provider` `none` (the default) nothing is asked and
    /// nothing changes: signals carry `llm_sentiment` null and the template explanation.
    public struct LLM: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
        /// Which kind of server answers.
        public enum Provider: String, Sendable, CaseIterable {
            /// No model: no sentiment, template explanations, journal and review UNAVAILABLE.
            case none
            /// Any OpenAI-compatible `/chat/completions` server (OpenAI, Qwen, vLLM, Ollama, llama.cpp).
            case openai
        }

        /// How the sentiment answer is asked for.
        public enum ResponseFormat: String, Sendable, CaseIterable {
            /// One line `POSITIVE|NEUTRAL|NEGATIVE: <reason>`.
            case text
            /// `response_format` `json_object`: `{"sentiment","reason"}`.
            case jsonObject = "json_object"
        }

        /// `llm.provider` (`none`).
        public var provider = Provider.none
        /// `llm.base_url`: up to and without `/chat/completions` (required with `openai`).
        public var baseURL = ""
        /// `llm.model` (required with `openai`).
        public var model = ""
        /// `llm.api_key` (env `BEDROCK_LLM_API_KEY`; empty sends no `Authorization`). Never printed.
        public var apiKey = ""
        /// `llm.timeout_s` (30): one call, connect to last byte.
        public var timeoutS: Double = 30
        /// `llm.max_concurrency` (2): calls in flight at once, over all tasks.
        public var maxConcurrency = 2
        /// `llm.cache_ttl_s` (3600): how long a market's sentiment answer stays valid.
        public var cacheTTLS: Double = 3600
        /// `llm.prompts_dir` (`config/prompts`): `sentiment.txt`, `explanation.txt`, `journal.txt`,
        /// `review.txt`.
        public var promptsDir = "config/prompts"
        /// `llm.batch_window_s` (5): how long a market's headlines gather before one sentiment call
        /// covers them all.
        public var batchWindowS: Double = 5
        /// `llm.response_format` (`text`).
        public var responseFormat = ResponseFormat.text
        /// `llm.temperature` (0.2).
        public var temperature: Double = 0.2
        /// `llm.outage_quiet_s` (600): seconds without a failed call before a success ends an
        /// outage (and the next failure raises a new `LLM_UNAVAILABLE`).
        public var outageQuietS: Double = 600

        /// The built-in defaults (no provider).
        public init() {}

        /// True when a model is configured.
        public var enabled: Bool { provider != .none }

        /// The settings without the key (it says only whether one is set).
        public var description: String {
            guard enabled else { return "llm(provider: none)" }
            return "llm(provider: \(provider.rawValue), base_url: \(Self.printable(baseURL)), model: \(model), api_key: "
                + "\(apiKey.isEmpty ? "none" : "set"), timeout_s: \(timeoutS), max_concurrency: \(maxConcurrency))"
        }

        /// `url` without user information and query (a key may travel there on some providers).
        static func printable(_ url: String) -> String {
            var text = Substring(url)
            if let query = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<query] + "?…" }
            guard let scheme = text.range(of: "://") else { return String(text) }
            let rest = text[scheme.upperBound...]
            let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            guard let at = rest[..<hostEnd].lastIndex(of: "@") else { return String(text) }
            return String(text[..<scheme.upperBound]) + "…@" + rest[rest.index(after: at)...]
        }

        /// What `dump` and debuggers show: every setting, the key only as set or not.
        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "provider": provider, "baseURL": Self.printable(baseURL), "model": model,
                    "apiKey": apiKey.isEmpty ? "none" : "[redacted]", "timeoutS": timeoutS,
                    "maxConcurrency": maxConcurrency, "cacheTTLS": cacheTTLS, "promptsDir": promptsDir,
                    "batchWindowS": batchWindowS, "responseFormat": responseFormat, "temperature": temperature,
                    "outageQuietS": outageQuietS,
                ])
        }

        /// Reads `llm.*`; with `openai`, `base_url` (http or https) and `model` are required.
        static func load(_ raw: RawConfig) throws(ConfigError) -> LLM {
            var l = LLM()
            l.provider = Provider(rawValue: try raw.choice("llm.provider", default: "none", Provider.allCases.map(\.rawValue)))!
            l.baseURL = try raw.optionalString("llm.base_url") ?? ""
            l.model = try raw.optionalString("llm.model") ?? ""
            l.apiKey = try apiKey(raw)
            l.timeoutS = try raw.double("llm.timeout_s", default: l.timeoutS, 0.05...600)
            l.maxConcurrency = try raw.int("llm.max_concurrency", default: l.maxConcurrency, 1...64)
            l.cacheTTLS = try raw.double("llm.cache_ttl_s", default: l.cacheTTLS, 1...604_800)
            l.promptsDir = try raw.string("llm.prompts_dir", default: l.promptsDir)
            l.batchWindowS = try raw.double("llm.batch_window_s", default: l.batchWindowS, 0...3600)
            l.responseFormat = ResponseFormat(
                rawValue: try raw.choice("llm.response_format", default: "text", ResponseFormat.allCases.map(\.rawValue)))!
            l.temperature = try raw.double("llm.temperature", default: l.temperature, 0...2)
            l.outageQuietS = try raw.double("llm.outage_quiet_s", default: l.outageQuietS, 0...86_400)
            guard l.enabled else { return l }
            let url = l.baseURL.lowercased()
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8 else {
                throw ConfigError(
                    key: "llm.base_url",
                    message: "is required with llm.provider openai: an http:// or https:// URL up to /chat/completions "
                        + "(e.g. https://api.openai.com/v1, http://127.0.0.1:11434/v1)",
                    source: raw.source(of: "llm.base_url"))
            }
            guard !l.model.isEmpty else {
                throw ConfigError(
                    key: "llm.model", message: "is required with llm.provider openai (e.g. gpt-4o-mini, qwen-plus)",
                    source: raw.source(of: "llm.model"))
            }
            return l
        }

        /// `llm.api_key`: a string or unset. The value is a secret: an error says what is wrong,
        /// never what it is.
        private static func apiKey(_ raw: RawConfig) throws(ConfigError) -> String {
            guard let (value, source) = raw.values["llm.api_key"], !value.isNull else { return "" }
            guard let key = value.stringValue else {
                throw ConfigError(key: "llm.api_key", message: "must be a string", source: source)
            }
            let trimmed = key.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw ConfigError(
                    key: "llm.api_key",
                    message: "must be visible ASCII with no spaces inside (\(trimmed.utf8.count) bytes given)",
                    source: source)
            }
            return trimmed
        }
    }
}
