// The Bedrock load generator: thousands of WebSocket connections from one process on one
// libwebsockets client context (see loadtest/README.md).
import Bedrock
import Foundation

let parsed = Options.parse(Array(CommandLine.arguments.dropFirst()))
guard case .success(let options) = parsed else {
    if case .failure(let error) = parsed { FileHandle.standardError.write((error.message + "\n").data(using: .utf8)!) }
    exit(2)
}
signal(SIGPIPE, SIG_IGN)
let fileLimit = ProcStats.raiseFileLimit()
if fileLimit < options.connections + 64 {
    FileHandle.standardError.write("loadtest: open-file limit \(fileLimit) is too low for \(options.connections) connections\n".data(using: .utf8)!)
    exit(2)
}
guard case .success(let endpoint) = RedisEndpoint.parse(options.redis), let redisAddress = RedisAddress(endpoint) else {
    FileHandle.standardError.write("loadtest: bad --redis URL \(options.redis)\n".data(using: .utf8)!)
    exit(2)
}
let tokens = Tokens.make(options)
let pool = ClientPool(options: options, tokens: tokens)
let streamKey = "\(options.prefix)stream:\(options.topic)"
let scenario = Scenario(options: options, pool: pool) { total in
    try Publisher(address: redisAddress, key: streamKey, total: total, rate: options.rate)
}
guard pool.run({ _ in scenario.tick() }) else {
    FileHandle.standardError.write("loadtest: cannot create a libwebsockets context\n".data(using: .utf8)!)
    exit(2)
}
let report = scenario.report
print(report.table())
if let path = options.jsonPath {
    do { try report.writeJSON(path) } catch {
        FileHandle.standardError.write("loadtest: cannot write \(path): \(error)\n".data(using: .utf8)!)
        exit(2)
    }
}
if options.scenario == "smoke" {
    let passed = report.rows.first { $0.0 == "connections passed" }.map { $0.1.display } ?? "0"
    let failed = report.rows.first { $0.0 == "connections failed" }.map { $0.1.display } ?? "\(options.connections)"
    print("smoke: \(passed) passed, \(failed) failed")
}
exit(report.failures.isEmpty ? 0 : 1)
