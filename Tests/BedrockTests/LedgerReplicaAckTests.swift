import RedisClient
import XCTest

@testable import Bedrock

/// `redis.min_replicas_to_ack`: a write no replica confirmed is reported (and counted), stays on
/// the master, and a write that changed nothing waits for nobody. The test server has no replica.
final class LedgerReplicaAckTests: RedisTestCase {
    func testAWriteNoReplicaConfirmedThrowsAndStaysOnTheMaster() throws {
        let policy = ReplicaAcks(count: 1, timeoutMillis: 50)
        let ledger = try Ledger(settings: LedgerSettings(replicaAcks: policy))
        XCTAssertThrowsError(try ledger.setKillSwitch(true, by: "ops", on: conn)) {
            guard case LedgerError.notReplicated(let acknowledged, let seen) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(acknowledged, 0)
            XCTAssertEqual(seen, policy)
            XCTAssertTrue("\($0)".contains("not confirmed by 1 replica(s) within 50 ms"), "\($0)")
        }
        XCTAssertEqual(ledger.replicaAckFailures, 1)
        XCTAssertEqual(try conn.command(["HGET", "bedrock:risk", "kill_switch"]).string, "1", "the write stays on the master")
        // Setting the same value again writes nothing, so there is nothing to wait for.
        XCTAssertEqual(try ledger.setKillSwitch(true, by: "ops", on: conn).status, "unchanged")
        XCTAssertEqual(ledger.replicaAckFailures, 1)
    }

    func testTheAnswerIsUnavailableWithTheCounts() {
        let policy = ReplicaAcks(count: 2, timeoutMillis: 300)
        let error = APIError.notReplicated(
            LedgerError.notReplicated(acknowledged: 1, policy: policy), acknowledged: 1, policy: policy)
        XCTAssertEqual(error.code, .unavailable)
        XCTAssertTrue(error.isReplicaAckFailure)
        XCTAssertEqual(error.details?["replicas_acknowledged"], .int(1))
        XCTAssertFalse(APIError(.unavailable, "the ledger store is unreachable").isReplicaAckFailure)
    }
}
