import Dispatch
import JSONCodec
import JWTAuth

@testable import Bedrock

extension MethodTable {
    /// Dispatches `method` to the worker pool and waits (at most 10 s) for the answer (tests).
    func answerWaiting(_ method: Method, _ params: JSONObject, role: Role = .admin) -> Result<JSONValue, APIError> {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: Result<JSONValue, APIError> = .failure(APIError(.internal, "no answer within 10 s"))
        dispatch(method, MethodCall(subject: "tester", role: role, params: params)) { result in
            answer = result
            done.signal()
        }
        _ = done.wait(timeout: .now() + 10)
        return answer
    }
}
