import JSONCodec
import JWTAuth

extension GatewayConfig {
    /// `api.*`: how backends and bots reach the REST API without a JWT.
    public struct API: Sendable, Equatable {
        /// `api.keys`: `[{"name","key_sha256","role"}]`, names unique. Only digests are held.
        public var keys: [APIKeyEntry] = []

        public init() {}

        static let keysKey = "api.keys"

        /// `api.*` from `raw`; a bad entry is refused naming it (by position and name, never
        /// with its digest's text). In the environment (`BEDROCK_API_KEYS`) the list is JSON text.
        static func load(_ raw: RawConfig) throws(ConfigError) -> API {
            var api = API()
            guard var (value, source) = raw.values[keysKey], !value.isNull else { return api }
            func fail(_ message: String) -> ConfigError { ConfigError(key: keysKey, message: message, source: source) }
            if let text = value.stringValue {
                guard let parsed = try? JSONCodec.parse(Array(text.utf8)) else {
                    throw fail("must be a JSON array of {\"name\",\"key_sha256\",\"role\"}")
                }
                value = parsed
                source = raw.source(of: keysKey)
            }
            guard let items = value.arrayValue else {
                throw fail("must be an array of {\"name\",\"key_sha256\",\"role\"}")
            }
            for (index, item) in items.enumerated() {
                guard let object = item.objectValue, let name = object["name"]?.stringValue else {
                    throw fail("entry \(index) must be an object with a string \"name\"")
                }
                let label = "entry \(index)"
                guard APIKeyEntry.isValidName(name) else {
                    throw fail("\(label): name must be 1-64 of A-Z a-z 0-9 . _ - (got \(RawConfig.render(.string(name))))")
                }
                let named = "\(label) (\"\(name)\")"
                if let unknown = object.keys.first(where: { !["name", "key_sha256", "role"].contains($0) }) {
                    throw fail("\(named): unknown member \"\(unknown)\" (known: name, key_sha256, role)")
                }
                guard let hex = object["key_sha256"]?.stringValue, let digest = APIKeyEntry.digest(hex: hex) else {
                    throw fail(
                        "\(named): key_sha256 must be 64 lowercase hex digits, the SHA-256 of the key (bedrock apikey prints one)"
                    )
                }
                guard let roleText = object["role"]?.stringValue, let role = Role(rawValue: roleText) else {
                    throw fail("\(named): role must be ADMIN, TRADER or VIEWER")
                }
                guard !api.keys.contains(where: { $0.name == name }) else {
                    throw fail("\(named): the name is used by an earlier entry")
                }
                guard !api.keys.contains(where: { $0.digest == digest }) else {
                    throw fail("\(named): the same key_sha256 as an earlier entry (one key per name)")
                }
                api.keys.append(APIKeyEntry(name: name, digest: digest, role: role))
            }
            return api
        }
    }
}
