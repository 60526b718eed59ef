import Foundation
import Synchronization
import XCTest

@testable import Bedrock

/// What the service loops share: where a new connection goes, the counts behind the connection
/// limit and `/ready`, and `/metrics` added up over the loops.
final class ServiceLoopTests: XCTestCase {
    func testNewConnectionsGoToTheLoopHoldingTheFewest() {
        let census = LoopCensus(loops: 3)
        var placed: [Int] = []
        for _ in 0..<6 {
            let loop = census.loopForNewConnection()
            placed.append(loop)
            _ = census.opened(on: loop)
        }
        XCTAssertEqual(census.openPerLoop, [2, 2, 2], "placed on \(placed)")
        census.closed(on: 1, wasAuthenticated: false)
        census.closed(on: 1, wasAuthenticated: false)
        XCTAssertEqual(census.loopForNewConnection(), 1)
        XCTAssertEqual(census.totalOpen, 4)
    }

    func testConnectionsNotYetEstablishedStillTakeTurns() {
        // A burst of accepts before any handshake completes: all loops are equal, so they alternate.
        let census = LoopCensus(loops: 2)
        let picks = (0..<6).map { _ in census.loopForNewConnection() }
        XCTAssertEqual(picks.filter { $0 == 0 }.count, 3, "\(picks)")
        XCTAssertEqual(LoopCensus(loops: 1).loopForNewConnection(), 0)
    }

    func testSessionNumbersAreUniqueAcrossLoopsAndAuthenticatedCountsFollowCloses() {
        let census = LoopCensus(loops: 2)
        let numbers = (0..<10).map { census.opened(on: $0 % 2) }
        XCTAssertEqual(Set(numbers).count, 10)
        census.authenticatedOne()
        census.authenticatedOne()
        XCTAssertEqual(census.totalAuthenticated, 2)
        census.closed(on: 0, wasAuthenticated: true)
        census.closed(on: 1, wasAuthenticated: false)
        XCTAssertEqual(census.totalAuthenticated, 1)
        XCTAssertEqual(census.openPerLoop, [4, 4])
    }

    func testMetricsOfTheLoopsAddUp() {
        let registry = MetricsRegistry()
        let a = GatewayMetrics(registry: registry), b = GatewayMetrics(registry: registry)
        a.messagesIn.add(3)
        b.messagesIn.add(4)
        b.close(.rateLimited)
        a.observeHTTP(route: "/health", status: 200, seconds: 0.0004)
        b.observeHTTP(route: "/health", status: 200, seconds: 0.02)
        a.framesOut = 10; a.eventsOut = 25
        b.framesOut = 5; b.eventsOut = 5
        a.publish()
        b.publish()
        let gather = MetricsGather(parts: 2)
        XCTAssertNil(gather.add(LoopSample(queuedFrames: 2, topics: ["signals"])))
        let total = try! XCTUnwrap(gather.add(LoopSample(queuedFrames: 1, topics: ["signals", "risk"])))
        XCTAssertEqual(total.queuedFrames, 3)
        XCTAssertEqual(total.topics, ["signals", "risk"])
        let text = registry.render()
        for line in [
            "bedrock_ws_messages_in_total 7", "bedrock_ws_closes_total{code=\"4429\"} 1",
            "bedrock_ws_frames_out_total 15", "bedrock_ws_messages_out_total 30",
            "bedrock_http_requests_total{route=\"/health\",status=\"200\"} 2",
            "bedrock_http_request_duration_seconds_bucket{le=\"0.0005\"} 1",
            "bedrock_http_request_duration_seconds_bucket{le=\"0.025\"} 2",
            "bedrock_http_request_duration_seconds_count 2",
        ] {
            XCTAssertTrue(text.contains(line + "\n"), "missing \(line) in\n\(text)")
        }
    }
}

/// The ordered start and stop of `bedrock serve`'s services.
final class ServiceListTests: XCTestCase {
    func testServicesStopNewestFirstAndOnlyOnce() {
        let services = ServiceList()
        let stopped = Mutex<[String]>([])
        for name in ["redis", "jobs", "engine", "bridge"] {
            services.started(name) { stopped.withLock { $0.append(name) } }
        }
        XCTAssertEqual(services.running, ["redis", "jobs", "engine", "bridge"])
        var announced: [String] = []
        services.stopAll { announced.append($0) }
        XCTAssertEqual(stopped.withLock { $0 }, ["bridge", "engine", "jobs", "redis"])
        XCTAssertEqual(announced, ["bridge", "engine", "jobs", "redis"])
        services.stopAll()
        XCTAssertEqual(stopped.withLock { $0 }.count, 4, "a second stopAll stops nothing again")
        XCTAssertTrue(services.running.isEmpty)
    }
}
