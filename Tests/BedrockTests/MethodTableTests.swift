import JSONCodec
import JWTAuth
import XCTest

@testable import Bedrock

/// The shared method table and the REST route table (SPEC §4–5).
final class MethodTableTests: XCTestCase {
    func testRoutesMapToMethodsWithPathParameters() {
        XCTAssertEqual(RESTRoutes.match(verb: "GET", path: "/v1/signals")?.method, .signalsList)
        XCTAssertEqual(RESTRoutes.match(verb: "GET", path: "/v1/signals/arbiter-stats")?.method, .signalsArbiterStats)
        let one = RESTRoutes.match(verb: "GET", path: "/v1/signals/abc-1")
        XCTAssertEqual(one?.method, .signalsGet)
        XCTAssertEqual(one?.params.first?.0, "id")
        XCTAssertEqual(one?.params.first?.1, "abc-1")
        XCTAssertEqual(RESTRoutes.match(verb: "GET", path: "/v1/positions/estimate")?.method, .positionsEstimate)
        XCTAssertEqual(RESTRoutes.match(verb: "POST", path: "/v1/positions/p7/close")?.method, .positionsClose)
        XCTAssertEqual(RESTRoutes.match(verb: "POST", path: "/v1/positions/open")?.method, .positionsOpen)
        XCTAssertEqual(RESTRoutes.match(verb: "GET", path: "/v1/backtest/report/t1")?.params.first?.1, "t1")
        XCTAssertNil(RESTRoutes.match(verb: "POST", path: "/v1/signals"), "wrong verb")
        XCTAssertNil(RESTRoutes.match(verb: "GET", path: "/v1/nope"))
        XCTAssertNil(RESTRoutes.match(verb: "GET", path: "/v1/signals/a/b"))
    }

    func testBlockingCallsRunAtMostTheCapAtOnceAndAllFinish() {
        let table = MethodTable(workers: WorkerPool(threads: 6, name: "test-api"))  // `server.api_workers`
        let lock = NSLock()
        nonisolated(unsafe) var running = 0
        nonisolated(unsafe) var peak = 0
        table.register(
            MethodHandler(.accountGet) { _ in
                lock.lock(); running += 1; peak = max(peak, running); lock.unlock()
                Thread.sleep(forTimeInterval: 0.05)  // a handler blocked on Redis
                lock.lock(); running -= 1; lock.unlock()
                return .success(.null)
            })
        let cap = table.workers.size
        let calls = cap * 4
        let done = expectation(description: "every call answered")
        done.expectedFulfillmentCount = calls
        for _ in 0..<calls {
            table.dispatch(.accountGet, MethodCall(subject: "u", role: .viewer, params: [:])) { _ in done.fulfill() }
        }
        wait(for: [done], timeout: 30)
        XCTAssertEqual(peak, cap, "a burst of blocking calls runs on every worker, never on more")
    }

    func testEveryRouteMethodIsInTheSocketMethodList() {
        XCTAssertEqual(Set(RESTRoutes.table.map(\.method)), Set(Method.allCases))
    }

    private func dispatch(_ table: MethodTable, _ method: Method, role: Role) -> Result<JSONValue, APIError> {
        let done = expectation(description: "answer")
        nonisolated(unsafe) var answer: Result<JSONValue, APIError>?
        table.dispatch(method, MethodCall(subject: "u", role: role, params: ["x": 1])) { result in
            answer = result
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
        return answer!
    }

    func testDispatchChecksRoleThenHandler() {
        let table = MethodTable()
        table.register(
            MethodHandler(.riskKillSwitch) { call in .success(["by": .string(call.subject), "x": call.params["x"] ?? .null]) })
        XCTAssertEqual(
            dispatch(table, .riskKillSwitch, role: .trader),
            .failure(APIError(.forbidden, "role TRADER may not call risk.kill_switch")))
        XCTAssertEqual(dispatch(table, .riskKillSwitch, role: .admin), .success(["by": "u", "x": 1]))
        guard case .failure(let missing) = dispatch(table, .accountGet, role: .admin) else {
            return XCTFail("expected NOT_FOUND")
        }
        XCTAssertEqual(missing.code, .notFound)
    }

    func testDownloadRoutesMatchAndCheckTheRole() {
        let route = DownloadRoute("/v1/backtest/report/{task_id}/export", leastRole: .trader) { call in
            .success(
                Download(
                    contentType: "text/csv", filename: "r.csv", body: Array((call.params["task_id"]?.stringValue ?? "").utf8)))
        }
        XCTAssertEqual(route.match("/v1/backtest/report/t9/export")?.first?.1, "t9")
        XCTAssertNil(route.match("/v1/backtest/report/t9"))
        let table = MethodTable()
        table.register(download: route)
        let done = expectation(description: "answers")
        done.expectedFulfillmentCount = 2
        nonisolated(unsafe) var bodies: [String: String] = [:]
        let lock = NSLock()
        for role in [Role.viewer, .admin] {
            table.dispatch(download: route, MethodCall(subject: "u", role: role, params: ["task_id": "t9"])) { result in
                lock.lock()
                switch result {
                case .success(let file): bodies[role.rawValue] = String(decoding: file.body, as: UTF8.self)
                case .failure(let error): bodies[role.rawValue] = error.code.rawValue
                }
                lock.unlock()
                done.fulfill()
            }
        }
        wait(for: [done], timeout: 5)
        XCTAssertEqual(bodies, ["VIEWER": "FORBIDDEN", "ADMIN": "t9"])
    }
}
