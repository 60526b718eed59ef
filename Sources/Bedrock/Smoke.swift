import CWebSockets
import CHiredis
import CJWT

enum CLibrarySmoke {
    static func versions() -> String {
        let lws = String(cString: lws_get_library_version())
        let pre = bedrock_lws_pre
        return "lws \(lws) pre \(pre) \(JSONCodec.parserVersion) hiredis \(HIREDIS_MAJOR).\(HIREDIS_MINOR) jwt \(JWT_ALG_HS256.rawValue)"
    }
}
public func bedrockLibraryVersions() -> String { CLibrarySmoke.versions() }
