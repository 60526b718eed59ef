import Foundation

@testable import Bedrock

/// The input as a request head: `METHOD TARGET [VERSION]`, then `Name: value` lines. What the
/// gateway computes from a head without a socket is checked: the REST route and its path
/// parameters (`RESTRoutes.match`), the static file (`StaticFiles.resolve`, over a small public
/// folder holding a symlink that points outside it), the bearer token of `Authorization`
/// (`HTTPExchange.bearerToken(in:)`) and the `X-Request-ID` kept or replaced
/// (`HTTPExchange.requestID(given:)`). lws parses the head itself (and splits and decodes the
/// query string); that C code is not fuzzed here.
func fuzzHTTP(_ input: UnsafeRawBufferPointer) {
    let text = String(decoding: input, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
    guard let requestLine = lines.next() else { return }
    let words = requestLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
    guard words.count >= 2 else { return }
    let verb = String(words[0])
    let target = words[1]
    let path = String(target.prefix { $0 != "?" })
    checkRoute(verb: verb, path: path)
    checkStaticFile(path)
    while let line = lines.next() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].lowercased()
        let value = String(line[line.index(after: colon)...].drop { $0 == " " })
        if name == "authorization" { checkBearer(value) }
        if name == "x-request-id" { checkRequestID(value) }
    }
}

/// A matched route has the request's verb (HEAD as GET), and its template with the parameters
/// filled in gives back the path's segments.
private func checkRoute(verb: String, path: String) {
    guard let (method, params) = RESTRoutes.match(verb: verb, path: path) else { return }
    let wanted = verb == "HEAD" ? "GET" : verb
    let parts = path.split(separator: "/").map(String.init)
    guard
        let route = RESTRoutes.table.first(where: { $0.method == method && $0.verb == wanted }),
        route.segments.count == parts.count
    else { fatalError("\(verb) \(path) matched \(method), whose route does not fit") }
    var filled: [String] = []
    var remaining = params[...]
    for segment in route.segments {
        if segment.hasPrefix("{") {
            guard let (name, value) = remaining.popFirst(), "{\(name)}" == segment, !value.isEmpty, !value.contains("/")
            else { fatalError("bad path parameters \(params) for \(path)") }
            filled.append(value)
        } else {
            filled.append(segment)
        }
    }
    guard remaining.isEmpty, filled == parts else { fatalError("\(path) matched \(route.segments) with \(params)") }
}

/// The public folder: index.html, a hidden file, a sub-folder and a symlink leaving the folder.
private let publicDir: StaticFiles = {
    let root = NSTemporaryDirectory() + "bedrock-fuzz-public-\(getpid())"
    let files = FileManager.default
    try? files.createDirectory(atPath: root + "/js", withIntermediateDirectories: true)
    files.createFile(atPath: root + "/index.html", contents: Data("<html></html>".utf8))
    files.createFile(atPath: root + "/js/app.js", contents: Data("export {}".utf8))
    files.createFile(atPath: root + "/.secret", contents: Data("x".utf8))
    try? files.createSymbolicLink(atPath: root + "/outside", withDestinationPath: "/etc")
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "bedrock-fuzz-public-\(getpid())") }
    return StaticFiles(root: root)
}()

/// A served file is a regular file inside the public folder, never a hidden one.
private func checkStaticFile(_ path: String) {
    guard let realRoot = publicDir.realRoot else { fatalError("no public folder") }
    guard let file = publicDir.resolve(path) else { return }
    var isDirectory: ObjCBool = false
    guard file.path.hasPrefix(realRoot + "/"), !file.path.contains("/."),
        FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue
    else { fatalError("\(path.debugDescription) resolved to \(file.path)") }
}

/// A token is what follows `Bearer ` (any case), never empty, never with blanks around it.
private func checkBearer(_ value: String) {
    guard let token = HTTPExchange.bearerToken(in: value) else { return }
    guard !token.isEmpty, token.first != " ", token.last != " ", token.first != "\t", token.last != "\t",
        value.drop(while: { $0 == " " }).lowercased().hasPrefix("bearer"), value.hasSuffix(token) || value.contains(token)
    else { fatalError("Authorization \(value.debugDescription) gave token \(token.debugDescription)") }
}

/// The request id sent back is the client's when sane, else a fresh one; always 1–64 safe bytes.
private func checkRequestID(_ value: String) {
    let id = HTTPExchange.requestID(given: value)
    let safe = { (b: UInt8) in
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46 || b == 95
    }
    guard (1...64).contains(id.utf8.count), id.utf8.allSatisfy(safe) else {
        fatalError("request id \(id.debugDescription) from \(value.debugDescription)")
    }
    if (1...64).contains(value.utf8.count) && value.utf8.allSatisfy(safe) && id != value {
        fatalError("a sane request id \(value) was replaced")
    }
}
