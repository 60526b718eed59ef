import CWebSockets
import CJansson
import CHiredis
import CJWT

enum CLibrarySmoke {
    static func versions() -> String {
        let lws = String(cString: lws_get_library_version())
        let pre = bedrock_lws_pre
        let j = String(cString: jansson_version_str())
        return "lws \(lws) pre \(pre) jansson \(j) hiredis \(HIREDIS_MAJOR).\(HIREDIS_MINOR) jwt \(JWT_ALG_HS256.rawValue)"
    }
}
public func bedrockLibraryVersions() -> String { CLibrarySmoke.versions() }
