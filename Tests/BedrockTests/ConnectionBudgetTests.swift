import XCTest

@testable import Bedrock

/// Who may open a WebSocket connection: authenticated and waiting sockets have budgets of their
/// own, and one address may hold only so many.
final class ConnectionBudgetTests: XCTestCase {
    private func budget(_ change: (inout GatewayConfig.Server) -> Void = { _ in }) -> ConnectionBudget {
        var server = GatewayConfig.Server()
        change(&server)
        return ConnectionBudget(server)
    }

    private func occupancy(_ authenticated: Int, _ unauthenticated: Int, fromAddress: Int = 0) -> ConnectionBudget.Occupancy {
        ConnectionBudget.Occupancy(authenticated: authenticated, unauthenticated: unauthenticated, fromAddress: fromAddress)
    }

    func testDefaultsShareOfTheConnectionLimit() {
        XCTAssertEqual(budget().maxUnauthenticated, 1024, "20,000 connections: a tenth, at most 1024")
        XCTAssertEqual(budget { $0.maxConnections = 50 }.maxUnauthenticated, 5)
        XCTAssertEqual(budget { $0.maxConnections = 3 }.maxUnauthenticated, 1)
        XCTAssertEqual(
            budget {
                $0.maxConnections = 50
                $0.maxUnauthenticated = 7
            }.maxUnauthenticated, 7)
        XCTAssertEqual(budget().maxPerAddress, 256)
        XCTAssertEqual(budget().exempt, ["127.0.0.1", "::1"])
    }

    func testWaitingSocketsNeverKeepAnAuthenticatedClientOut() {
        let b = budget { $0.maxConnections = 50 }
        XCTAssertNil(b.admit(authenticated: false, from: "10.0.0.1", occupancy(0, 4)))
        XCTAssertEqual(b.admit(authenticated: false, from: "10.0.0.1", occupancy(0, 5)), .unauthenticatedFull)
        XCTAssertNil(b.admit(authenticated: true, from: "10.0.0.1", occupancy(49, 5)))
        XCTAssertEqual(b.admit(authenticated: true, from: "10.0.0.1", occupancy(50, 0)), .authenticatedFull)
        XCTAssertNil(b.admit(authenticated: false, from: "10.0.0.1", occupancy(50, 4)), "a full house still lets one wait")
    }

    func testOneAddressHoldsAtMostItsShareUnlessExempt() {
        let b = budget {
            $0.maxConnectionsPerIP = 3
            $0.perIPExempt = ["192.0.2.9", "::ffff:198.51.100.1"]
        }
        XCTAssertNil(b.admit(authenticated: true, from: "10.0.0.1", occupancy(0, 0, fromAddress: 2)))
        XCTAssertEqual(b.admit(authenticated: true, from: "10.0.0.1", occupancy(0, 0, fromAddress: 3)), .addressFull)
        XCTAssertEqual(b.admit(authenticated: false, from: "10.0.0.1", occupancy(0, 0, fromAddress: 3)), .addressFull)
        XCTAssertNil(b.admit(authenticated: true, from: "192.0.2.9", occupancy(0, 0, fromAddress: 300)))
        XCTAssertNil(b.admit(authenticated: true, from: "198.51.100.1", occupancy(0, 0, fromAddress: 300)))
        XCTAssertNil(
            budget { $0.maxConnectionsPerIP = 0 }.admit(authenticated: true, from: "10.0.0.1", occupancy(0, 0, fromAddress: 9999))
        )
    }

    func testAddressesHaveOneSpelling() {
        XCTAssertEqual(ConnectionBudget.normalized("::ffff:10.1.2.3"), "10.1.2.3")
        XCTAssertEqual(ConnectionBudget.normalized("::FFFF:10.1.2.3"), "10.1.2.3")
        XCTAssertEqual(ConnectionBudget.normalized("2001:db8::1"), "2001:db8::1")
        XCTAssertEqual(ConnectionBudget.normalized("::1"), "::1")
    }

    func testCensusCountsEachAddressAndTheAuthenticatedLimit() {
        let census = LoopCensus(loops: 2)
        _ = census.opened(on: 0, address: "10.0.0.1")
        _ = census.opened(on: 1, address: "10.0.0.1")
        _ = census.opened(on: 1, address: "10.0.0.2")
        XCTAssertTrue(census.authenticatedOne(limit: 2))
        XCTAssertTrue(census.authenticatedOne(limit: 2))
        XCTAssertFalse(census.authenticatedOne(limit: 2), "the third is over the limit")
        XCTAssertEqual(census.occupancy(of: "10.0.0.1"), occupancy(2, 1, fromAddress: 2))
        census.closed(on: 0, wasAuthenticated: true, address: "10.0.0.1")
        census.closed(on: 1, wasAuthenticated: false, address: "10.0.0.1")
        XCTAssertEqual(census.occupancy(of: "10.0.0.1"), occupancy(1, 0, fromAddress: 0))
        XCTAssertEqual(census.occupancy(of: "10.0.0.2").fromAddress, 1)
    }
}
