import Foundation
import GatewayCore
import LLMCore
import RedisClient
import Synchronization
import XCTest

@testable import Bedrock

/// The LLM provider's circuit in `LLMService.call`, against a port nothing listens on (every call
/// is a connection error at once) and a clock the test moves: the threshold opens it, calls are
/// then refused before any connection (`deferred`, with the wait in the public message), and
/// after the cool-down one probe goes.
final class LLMCircuitTests: XCTestCase {
    private var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    func testRefusedWhileOpenThenOneProbe() throws {
        var config = GatewayConfig()
        config.llm.provider = .openai
        config.llm.baseURL = "http://127.0.0.1:9/v1"
        config.llm.model = "m"
        config.llm.timeoutS = 2
        config.llm.promptsDir = repoRoot + "/config/prompts"
        let clock = ManualClock(monotonic: 100)
        let seen = Mutex<[CircuitBreaker.Transition]>([])
        let circuit = SharedCircuitBreaker(
            dependency: "llm", failureThreshold: 2, cooldown: 30, clock: clock,
            observer: { transition in seen.withLock { $0.append(transition) } })
        let service = try LLMService(
            config: config, ledger: Bedrock.Ledger(settings: LedgerSettings(prefix: "c:")),
            address: RedisAddress(host: "127.0.0.1", port: 9), registry: MetricsRegistry(), circuit: circuit, clock: clock)

        func outcome(_ result: Result<String, LLMCallFailure>) -> LLMCallFailure? {
            if case .failure(let failure) = result { return failure }
            return nil
        }
        for _ in 0..<2 { XCTAssertEqual(outcome(service.call("hello"))?.outcome, .connectionError) }
        XCTAssertEqual(circuit.state, .open)
        let refused = outcome(service.call("hello"))
        XCTAssertEqual(refused?.outcome, .deferred)
        XCTAssertEqual(refused?.publicMessage, "the model's server failed repeatedly; calls resume in 30 s")
        clock.advance(29.5)
        XCTAssertEqual(outcome(service.call("hello"))?.publicMessage, "the model's server failed repeatedly; calls resume in 1 s")
        clock.advance(0.5)
        XCTAssertEqual(outcome(service.call("hello"))?.outcome, .connectionError, "the probe is a real call")
        XCTAssertEqual(circuit.state, .open)
        XCTAssertEqual(seen.withLock { $0 }, [.opened(consecutiveFailures: 2), .opened(consecutiveFailures: 3)])
    }
}
