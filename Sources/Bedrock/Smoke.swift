import CWebSockets
import CJansson
import RedisClient

enum CLibrarySmoke {
    static func versions() -> String {
        let lws = String(cString: lws_get_library_version())
        let pre = bedrock_lws_pre
        let j = String(cString: jansson_version_str())
        return "lws \(lws) pre \(pre) jansson \(j) hiredis \(RedisConnection.libraryVersion)"
    }
}
public func bedrockLibraryVersions() -> String { CLibrarySmoke.versions() }
