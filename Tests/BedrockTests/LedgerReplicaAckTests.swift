import JSONCodec
import RedisClient
import XCTest

@testable import Bedrock

/// `redis.min_replicas_to_ack`: a money write too few replicas confirmed is reported (and
/// counted) as committed, stays on the master, and a repeat of it is not reported done either;
/// other scripts never wait. The test server has no replica unless a test gives it one.
final class LedgerReplicaAckTests: RedisTestCase {
    func testAWriteNoReplicaConfirmedThrowsAndStaysOnTheMaster() throws {
        let policy = ReplicaAcks(count: 1, timeoutMillis: 50)
        let ledger = try Ledger(settings: LedgerSettings(replicaAcks: policy))
        XCTAssertThrowsError(try ledger.setKillSwitch(true, by: "ops", on: conn)) {
            guard case LedgerError.notReplicated(let acknowledged, let seen, let write) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(acknowledged, 0)
            XCTAssertEqual(seen, policy)
            XCTAssertEqual(write.status, "changed")
            XCTAssertNotNil(write.eventID)
            XCTAssertTrue("\($0)".contains("not confirmed by 1 replica(s) within 50 ms"), "\($0)")
        }
        XCTAssertEqual(ledger.replicaAckFailures, 1)
        XCTAssertEqual(try conn.command(["HGET", "bedrock:risk", "kill_switch"]).string, "1", "the write stays on the master")
    }

    func testARetriedWriteIsNotReportedDoneWhileUnreplicated() throws {
        let ledger = try Ledger(settings: LedgerSettings(replicaAcks: ReplicaAcks(count: 1, timeoutMillis: 50)))
        XCTAssertThrowsError(try ledger.setKillSwitch(true, by: "ops", on: conn))
        // The operator retries: the script answers `unchanged`, which must not read as done.
        XCTAssertThrowsError(try ledger.setKillSwitch(true, by: "ops", on: conn)) {
            guard case LedgerError.notReplicated(_, _, let write) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(write.status, "unchanged")
        }
        XCTAssertEqual(ledger.replicaAckFailures, 2)
        // Closing a position that does not exist commits nothing: answered as is.
        XCTAssertEqual(try ledger.closePosition(id: 999, price: 1, reason: "MANUAL", on: conn).status, "not_found")
    }

    func testOnlyMoneyWritesWaitAndTooFewReplicasFailsAtOnce() throws {
        let ledger = try Ledger(settings: LedgerSettings(replicaAcks: ReplicaAcks(count: 1, timeoutMillis: 800)))
        // Not a money write: no WAIT, no failure, with no replica at all.
        let input = SignalInput(
            strategy: "s", market: "BTCUSDT", interval: "1h", barTime: "2026-01-01T00:00:00Z", signalType: "PULLBACK_BUY",
            side: "BUY", entryPrice: 100, stopLossPrice: 95, profitTargetPrice: 110, riskUnitR: 5,
            suggestedPositionWeight: 0.5, ruleEngineScore: 80, finalDecision: "APPROVED", explanation: "t")
        let signal = try ledger.recordSignal(input, on: conn)
        XCTAssertEqual(signal.status, "created")
        XCTAssertEqual(ledger.replicaAckFailures, 0)
        // A money write with fewer replicas connected than asked: refused without waiting 800 ms.
        let start = ContinuousClock.now
        XCTAssertThrowsError(try ledger.setKillSwitch(true, by: "ops", on: conn))
        XCTAssertLessThan(start.duration(to: .now), .milliseconds(400))
        XCTAssertFalse(conn.isBroken)
    }

    func testWaitEndsWithinTheTimeTheConnectionAllows() throws {
        let replica = try RedisTestServer()
        defer { replica.kill() }  // paused: SIGKILL ends it at once (a SIGTERM waits on its shutdown)
        _ = try replica.connect().command(["REPLICAOF", "127.0.0.1", String(redis.port)]).checked()
        let deadline = ContinuousClock.now + .seconds(10)
        while try conn.command(["WAIT", "1", "100"]).integer != 1 {
            XCTAssertLessThan(ContinuousClock.now, deadline, "the replica never caught up")
            if ContinuousClock.now > deadline { return }
        }
        replica.pause()  // connected, but acknowledges nothing
        let ledger = try Ledger(settings: LedgerSettings(replicaAcks: ReplicaAcks(count: 1, timeoutMillis: 5000)))
        let start = ContinuousClock.now
        conn.deadline = start + .milliseconds(600)
        XCTAssertThrowsError(try ledger.setKillSwitch(true, by: "ops", on: conn)) {
            guard case LedgerError.notReplicated(let acknowledged, _, let write) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(acknowledged, 0)
            XCTAssertEqual(write.status, "changed")
        }
        // Well under the 5 s configured (the deadline cut it; some slack for a busy machine).
        XCTAssertLessThan(start.duration(to: .now), .seconds(2))
        XCTAssertFalse(conn.isBroken, "a short WAIT is an answer, not a hung Redis")
    }

    func testTheAnswerIsUnavailableSayingTheWriteWasCommitted() {
        let policy = ReplicaAcks(count: 2, timeoutMillis: 300)
        let reply: JSONObject = ["status": .string("opened")]
        let write = LedgerWrite(status: "opened", id: 7, tradeID: nil, eventID: "1-0", reason: nil, message: nil, reply: reply)
        let error = APIError.notReplicated(
            LedgerError.notReplicated(acknowledged: 1, policy: policy, write: write), acknowledged: 1, policy: policy,
            write: write)
        XCTAssertEqual(error.code, .unavailable)
        XCTAssertTrue(error.isReplicaAckFailure)
        XCTAssertEqual(error.details?["replicas_acknowledged"], .int(1))
        XCTAssertEqual(error.details?["committed"], .bool(true))
        XCTAssertEqual(error.details?["id"], .int(7))
        XCTAssertEqual(error.details?["event_id"], .string("1-0"))
        XCTAssertFalse(APIError(.unavailable, "the ledger store is unreachable").isReplicaAckFailure)
    }
}
