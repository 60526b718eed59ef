import Foundation

/// Resolves request paths to files under the public directory, never outside it: the path is
/// checked segment by segment (no `..`, no hidden files, no NUL or backslash) and the resolved
/// real path must stay under the real root (so symlinks cannot escape either).
struct StaticFiles: Sendable {
    let root: String
    let realRoot: String?

    init(root: String) {
        self.root = root
        realRoot = StaticFiles.realPath(root)
    }

    /// The file to serve for a URL path (already percent-decoded by lws), or nil.
    func resolve(_ urlPath: String) -> (path: String, contentType: String)? {
        guard let realRoot else { return nil }
        var path = urlPath
        if path.hasSuffix("/") { path += "index.html" }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !segments.isEmpty else { return nil }
        for segment in segments {
            if segment.hasPrefix(".") || segment.contains("\\") || segment.contains("\0") || segment.contains("%") {
                return nil
            }
        }
        let candidate = realRoot + "/" + segments.joined(separator: "/")
        guard let real = StaticFiles.realPath(candidate), real.hasPrefix(realRoot + "/") else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return nil
        }
        return (real, StaticFiles.contentType(for: real))
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Content type by extension.
    static func contentType(for path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json": return "application/json; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "txt": return "text/plain; charset=utf-8"
        case "woff2": return "font/woff2"
        default: return "application/octet-stream"
        }
    }
}
