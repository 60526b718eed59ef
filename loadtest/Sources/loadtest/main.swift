// The Bedrock load generator: thousands of WebSocket connections from one process, on one
// libwebsockets client context or on plain sockets (`--client raw`) (see loadtest/README.md).
import Bedrock
import Foundation
import RedisClient

/// The run's settings; `--help` prints the flags and exits 0, a bad command line prints one line
/// on stderr and exits 2.
let options: Options = {
    do {
        return try LoadTestCommand.parse(Array(CommandLine.arguments.dropFirst())).options()
    } catch let error as OptionsError {
        FileHandle.standardError.write("loadtest: \(error.message)\n".data(using: .utf8)!)
    } catch {
        if LoadTestCommand.exitCode(for: error) == .success { LoadTestCommand.exit(withError: error) }
        let message = LoadTestCommand.message(for: error).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        FileHandle.standardError.write("loadtest: \(message) (loadtest --help lists the flags)\n".data(using: .utf8)!)
    }
    exit(2)
}()
signal(SIGPIPE, SIG_IGN)
let fileLimit = ProcStats.raiseFileLimit()
if fileLimit < options.connections + 64 {
    FileHandle.standardError.write(
        "loadtest: open-file limit \(fileLimit) is too low for \(options.connections) connections\n".data(using: .utf8)!)
    exit(2)
}
guard case .success(let endpoint) = RedisEndpoint.parse(options.redis), let redisAddress = RedisAddress(endpoint) else {
    FileHandle.standardError.write("loadtest: bad --redis URL \(options.redis)\n".data(using: .utf8)!)
    exit(2)
}
let tokens = Tokens.make(options)
let streamKey = "\(options.prefix)stream:\(options.topic)"
func scenario(on pool: any ClientConnections) -> Scenario {
    Scenario(options: options, pool: pool) { total in
        try Publisher(address: redisAddress, key: streamKey, total: total, rate: options.rate)
    }
}
let ran: Scenario?
if options.client == "raw" {
    let pool = RawClientPool(options: options, tokens: tokens)
    let driven = scenario(on: pool)
    ran = pool.run({ _ in driven.tick() }) ? driven : nil
} else {
    let pool = ClientPool(options: options, tokens: tokens)
    let driven = scenario(on: pool)
    ran = pool.run({ _ in driven.tick() }) ? driven : nil
}
guard let scenario = ran else {
    FileHandle.standardError.write(
        "loadtest: cannot start the \(options.client) client (an IPv4 loopback address is needed for raw)\n".data(using: .utf8)!)
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
