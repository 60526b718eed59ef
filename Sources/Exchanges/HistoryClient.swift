import GatewayCore
import HTTPClient
import MarketDataCore
import Synchronization

/// Pages of one exchange's kline history over REST (SPEC §10), for the live ingest's backfill and
/// gap repair and for `bedrock backfill`: each call waits for the exchange's shared pacer, sends
/// one request, and answers the page's closed bars, oldest first, checked for quality.
///
/// - Pacing: every call goes through the exchange's `SharedRequestPacer` (one per exchange,
///   shared by every market and thread), so all calls together stay under 80 % of the published
///   limit; a 429, a ban (Binance 418, Bybit 403) or Bybit's retCode 10006 holds every caller
///   until it ends, then the page is asked again. Each is reported (`HistoryEvent`).
/// - Failures: no answer, a 5xx or a body that breaks the documented format is tried again after
///   a `RetryBackoff` wait (full jitter under a ceiling of 1 s doubling), `maxAttempts` times in
///   all; an API refusal (unknown symbol, bad parameter) is not.
/// - Circuit: with a `SharedCircuitBreaker` (one per exchange), every request asks it first; while
///   it is open nothing is sent and the page fails at once with `.circuitOpen`; after the
///   cool-down one request probes. Failures are the retried kinds above; an answer of any other
///   kind (bars, a refusal, a rate limit or ban) is the exchange working.
/// - Bars: the forming bar (close time not yet past) is dropped silently; a row that breaks the
///   format, a bar that fails `BarQuality`, or a repeated open time is dropped and reported as
///   `rejected`.
/// - `cancel()` ends every wait at once (shutdown); a request already on the wire finishes within
///   its timeout (10 s).
///
/// Threading: any number of threads may call `page` at once. Each call borrows an `HTTPClient`
/// (one libcurl handle, used by one thread at a time) from the client's idle list and puts it
/// back, so consecutive calls reuse connections.
public final class HistoryClient: Sendable {
    /// Tries of one page when the answer is missing or unusable (no answer, 5xx, bad body).
    public static let maxAttempts = 5
    /// Ceiling of the wait before the second try; doubled for each later one.
    public static let firstRetryDelay = 1.0
    /// The retry schedule used unless one is given: `maxAttempts` tries, waits drawn under
    /// ceilings of 1, 2, 4 and 8 s.
    public static let defaultRetry = RetryBackoff(maxAttempts: maxAttempts, baseDelay: firstRetryDelay, maxDelay: 30)

    /// The exchange called.
    public let exchange: Exchange
    /// Where its REST API lives.
    public let endpoints: ExchangeEndpoints
    /// The exchange's shared pacer.
    public let pacer: SharedRequestPacer
    private let clock: any GatewayClock
    private let waiter: any HistoryWaiter
    private let observer: @Sendable (HistoryEvent) -> Void
    private let retry: RetryBackoff
    private let circuit: SharedCircuitBreaker?
    private let http: HTTPClientConfiguration
    private let requestTimeout: Duration
    private let cancelled = Atomic<Bool>(false)
    private let idle = Mutex<[IdleHTTPClient]>([])

    /// A client of `exchange` at `endpoints`, paced by `pacer`. `clock` gives monotonic seconds
    /// (pacing) and wall time (which bar is still forming); `waiter` blocks between tries;
    /// `observer` hears every request, limit and rejected bar; `retry` spaces the tries of a page;
    /// `circuit` (the exchange's, shared by its clients) stops requests after repeated failures.
    public init(
        exchange: Exchange, endpoints: ExchangeEndpoints, pacer: SharedRequestPacer, clock: any GatewayClock,
        waiter: any HistoryWaiter = SystemHistoryWaiter(), http: HTTPClientConfiguration = HTTPClientConfiguration(),
        requestTimeout: Duration = .seconds(10), retry: RetryBackoff = HistoryClient.defaultRetry,
        circuit: SharedCircuitBreaker? = nil, observer: @escaping @Sendable (HistoryEvent) -> Void = { _ in }
    ) {
        self.exchange = exchange
        self.endpoints = endpoints
        self.pacer = pacer
        self.clock = clock
        self.waiter = waiter
        self.retry = retry
        self.circuit = circuit
        self.http = http
        self.requestTimeout = requestTimeout
        self.observer = observer
    }

    /// Largest `limit` the exchange accepts (1000 on both).
    public var maxLimit: Int { HistoryRequest.maxLimit(exchange) }

    /// The closed bars of `symbol` opening in [`startTime`, `endTime`] (ms, inclusive), at most
    /// `limit` (1 to `maxLimit`) as the exchange pages them, oldest first, each on the interval's
    /// grid, of this symbol and interval, and passing `BarQuality`. Blocks: waits for the pacer,
    /// then for the answer; retries as described on the type.
    public func page(
        symbol: MarketSymbol, interval: KlineInterval, startTime: Int64, endTime: Int64, limit: Int
    ) throws(HistoryError) -> [ExchangeKline] {
        let wire: String
        do { wire = try exchange.wireInterval(interval) } catch { throw .unsupportedInterval(error) }
        let url = HistoryRequest.url(
            exchange, restURL: endpoints.restURL, symbol: symbol.id, wireInterval: wire, startTime: startTime,
            endTime: endTime, limit: min(max(limit, 1), maxLimit))
        var failures = 0
        while true {
            switch try circuitAttempt(url, symbol: symbol.id, interval: interval) {
            case .klines(let klines):
                return klines
            case .again:
                continue
            case .failed(let error):
                failures += 1
                // A failure that opened the circuit ends the page now: no retry could be sent.
                guard circuit?.state != .open, let wait = retry.delay(afterFailures: failures) else { throw error }
                try pause(wait)
            }
        }
    }

    /// Ends every wait now and makes every later call throw `.cancelled`.
    public func cancel() {
        cancelled.store(true, ordering: .releasing)
        waiter.cancel()
    }

    /// True once `cancel()` was called.
    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    // MARK: - one request

    private enum Attempt {
        case klines([ExchangeKline])
        /// Rate limited or banned: the pacer holds the next try until the wait ends.
        case again
        case failed(HistoryError)
    }

    /// One request through the circuit: refused at once while it is open, otherwise sent when the
    /// pacer allows and its result settled with the circuit.
    private func circuitAttempt(_ url: String, symbol: String, interval: KlineInterval) throws(HistoryError) -> Attempt {
        guard let circuit else {
            try waitForTurn()
            return try attempt(url, symbol: symbol, interval: interval)
        }
        let permit: CircuitBreaker.Permit
        switch circuit.decide() {
        case .go(let granted): permit = granted
        case .refuse(let retryIn): throw .circuitOpen(exchange: exchange, retryIn: retryIn)
        }
        do {
            try waitForTurn()
        } catch {
            circuit.abandon(permit)
            throw error
        }
        if permit == .call, circuit.state != .closed {
            // The circuit opened while this request waited for its turn: it is not sent (the
            // pacer hears it as a request that got no answer).
            _ = pacer.record(.init(weight: HistoryRequest.weight(exchange), status: nil), now: monotonic)
            throw .circuitOpen(exchange: exchange, retryIn: nil)
        }
        do {
            let result = try attempt(url, symbol: symbol, interval: interval)
            if case .failed = result {
                circuit.record(permit, reached: false)
            } else {
                circuit.record(permit, reached: true)
            }
            return result
        } catch {
            circuit.record(permit, reached: true)  // a refusal: the exchange answered
            throw error
        }
    }

    private func attempt(_ url: String, symbol: String, interval: KlineInterval) throws(HistoryError) -> Attempt {
        let weight = HistoryRequest.weight(exchange)
        let response: HTTPClient.Response
        do {
            response = try send(
                HTTPClient.Request(url: url, timeout: requestTimeout, connectTimeout: min(requestTimeout, .seconds(5))))
        } catch {
            _ = pacer.record(.init(weight: weight, status: nil), now: monotonic)
            observer(.request(exchange: exchange, status: .transportError))
            return .failed(.transport(exchange: exchange, message: error.description))
        }
        let status = response.status
        let policy = pacer.policy
        var decoded: Result<KlinePage, ExchangeAPIError>?
        var decodeError: KlineDecodeError?
        if status != 429, status != policy.banStatus, status < 500 {
            do {
                // Closed or forming by the exchange's clock (its `Date`), ours only without one.
                let exchangeNow = response.headers["Date"].flatMap(HTTPDate.millis) ?? wallMillis
                decoded = try HistoryRequest.decode(
                    exchange, response.text, symbol: symbol, interval: interval, nowMillis: exchangeNow)
            } catch {
                decodeError = error
            }
        }
        var rateLimitCode = false
        if case .failure(.bybitRateLimited) = decoded { rateLimitCode = true }
        let answer = RequestPacer.Answer(
            weight: weight, status: status,
            usedWeight: policy.usedWeightHeader.flatMap { response.headers[$0] }.flatMap(RequestPacer.usedWeight),
            retryAfter: response.headers["Retry-After"].flatMap(RequestPacer.retryAfterSeconds),
            rateLimitCode: rateLimitCode)
        let now = monotonic
        switch pacer.record(answer, now: now) {
        case .rateLimited(let until), .backingOff(let until):
            observer(.request(exchange: exchange, status: .rateLimited))
            observer(.rateLimited(exchange: exchange, waitSeconds: until - now))
            return .again
        case .banned(let until):
            observer(.request(exchange: exchange, status: .banned))
            observer(.banned(exchange: exchange, waitSeconds: until - now))
            return .again
        case .ok:
            break
        }
        if status >= 500 {
            observer(.request(exchange: exchange, status: .serverError))
            return .failed(.transport(exchange: exchange, message: "HTTP \(status) from \(exchange)"))
        }
        switch decoded {
        case .failure(let apiError)?:
            observer(.request(exchange: exchange, status: .refused))
            throw HistoryRequest.error(apiError, exchange: exchange, symbol: symbol)
        case .success(let page)? where (200..<300).contains(status):
            observer(.request(exchange: exchange, status: .ok))
            return .klines(accepted(page, symbol: symbol, interval: interval))
        default:
            guard (200..<300).contains(status) else {
                observer(.request(exchange: exchange, status: .refused))
                throw .refused(exchange: exchange, symbol: symbol, message: "HTTP \(status)")
            }
            observer(.request(exchange: exchange, status: .malformed))
            observer(.rejected(exchange: exchange, symbol: symbol, interval: interval, reason: .malformed, openTime: nil))
            return .failed(.badPayload(exchange: exchange, message: decodeError?.message ?? "no body"))
        }
    }

    /// The page's closed bars that pass the checks, oldest first, each open time once.
    private func accepted(_ page: KlinePage, symbol: String, interval: KlineInterval) -> [ExchangeKline] {
        for _ in page.malformedRows {
            observer(.rejected(exchange: exchange, symbol: symbol, interval: interval, reason: .malformed, openTime: nil))
        }
        var good: [ExchangeKline] = []
        good.reserveCapacity(page.klines.count)
        for kline in page.klines where kline.closed {
            if let reason = BarQuality.rejection(of: kline, symbol: symbol, interval: interval) {
                observer(
                    .rejected(exchange: exchange, symbol: symbol, interval: interval, reason: reason, openTime: kline.openTime))
            } else {
                good.append(kline)
            }
        }
        if !good.isSorted(by: { $0.openTime <= $1.openTime }) { good.sort { $0.openTime < $1.openTime } }
        var out: [ExchangeKline] = []
        out.reserveCapacity(good.count)
        for kline in good {
            if let last = out.last, last.openTime == kline.openTime {
                observer(
                    .rejected(
                        exchange: exchange, symbol: symbol, interval: interval, reason: .duplicate, openTime: kline.openTime))
            } else {
                out.append(kline)
            }
        }
        return out
    }

    // MARK: - waiting

    /// Waits until the pacer lets one request of this exchange go (and counts it).
    private func waitForTurn() throws(HistoryError) {
        let weight = HistoryRequest.weight(exchange)
        while true {
            guard !isCancelled else { throw .cancelled }
            let now = monotonic
            switch pacer.request(weight: weight, now: now) {
            case .sendNow: return
            case .waitUntil(let until): waiter.wait(until: until, now: now)
            }
        }
    }

    /// Waits `seconds` (retry delay), or throws once cancelled.
    private func pause(_ seconds: Double) throws(HistoryError) {
        let until = monotonic + seconds
        while true {
            guard !isCancelled else { throw .cancelled }
            let now = monotonic
            guard now < until else { return }
            waiter.wait(until: until, now: now)
        }
    }

    private var monotonic: Double { clock.read().monotonic }
    private var wallMillis: Int64 { Int64((clock.read().wall * 1000).rounded(.down)) }

    // MARK: - HTTP clients

    /// Sends on an idle client (or a new one), then puts it back.
    private func send(_ request: HTTPClient.Request) throws(HTTPClientError) -> HTTPClient.Response {
        let client: HTTPClient
        if let taken = idle.withLock({ $0.popLast() }) {
            client = taken.client
        } else {
            client = try HTTPClient(configuration: http)
        }
        defer { idle.withLock { $0.append(IdleHTTPClient(client: client)) } }
        return try client.send(request)
    }
}

/// An `HTTPClient` on the idle list. Sound as `@unchecked Sendable`: a client is only ever used by
/// the one thread that took it off the list (under the list's lock) until it puts it back.
private struct IdleHTTPClient: @unchecked Sendable {
    let client: HTTPClient
}

extension Array {
    fileprivate func isSorted(by ordered: (Element, Element) -> Bool) -> Bool {
        zip(self, dropFirst()).allSatisfy { ordered($0, $1) }
    }
}
