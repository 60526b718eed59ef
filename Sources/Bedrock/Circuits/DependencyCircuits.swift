import GatewayCore
import JSONCodec
import Logging
import Prometheus

/// The circuit breakers of one gateway's outside dependencies (docs/ops/BREAKERS.md): one per
/// exchange with a configured market (its REST API, shared by the markets' workers) and one for
/// the LLM provider when `llm.provider` names one, all on `circuit.failure_threshold` and
/// `circuit.cooldown_s`. Each state change is logged and counted:
///
/// | metric | type | meaning |
/// |---|---|---|
/// | `bedrock_circuit_state{dependency}` | gauge | 0 closed, 1 half-open, 2 open (read at each scrape) |
/// | `bedrock_circuit_opened_total{dependency}` | counter | times the circuit opened (a failed probe included) |
///
/// `/ready` shows every state under `checks.dependencies`, for information only: an open
/// circuit does not take the gateway out of service.
public final class DependencyCircuits: Sendable {
    /// The dependency name of the LLM provider.
    public static let llm = "llm"

    private let breakers: [String: SharedCircuitBreaker]

    /// Closed circuits for `dependencies` (names, e.g. `binance`, `llm`), with their series in
    /// `registry`.
    public init(
        dependencies: Set<String>, config: GatewayConfig.Circuit, registry: MetricsRegistry,
        clock: any GatewayClock = SystemClock()
    ) {
        let log = Logger(label: "bedrock.circuit")
        var breakers: [String: SharedCircuitBreaker] = [:]
        var gauges: [(SharedCircuitBreaker, Gauge)] = []
        for name in dependencies.sorted() {
            let opened = registry.counter(
                "bedrock_circuit_opened_total", help: "Times a dependency's circuit opened.",
                labels: [("dependency", name)])
            let breaker = SharedCircuitBreaker(
                dependency: name, failureThreshold: config.failureThreshold, cooldown: config.cooldownS, clock: clock,
                observer: { transition in
                    switch transition {
                    case .opened(let failures):
                        opened.increment()
                        log.warning(
                            "circuit: \(name) open after \(failures) failed calls in a row; no call for \(RawConfig.fmt(config.cooldownS)) s, then one probe"
                        )
                    case .closed:
                        log.info("circuit: \(name) closed: the probe call succeeded")
                    }
                })
            breakers[name] = breaker
            gauges.append(
                (
                    breaker,
                    registry.gauge(
                        "bedrock_circuit_state", help: "Dependency circuit: 0 closed, 1 half-open, 2 open.",
                        labels: [("dependency", name)])
                ))
        }
        self.breakers = breakers
        let scraped = gauges
        registry.onScrape {
            for (breaker, gauge) in scraped { gauge.set(breaker.state.gaugeValue) }
        }
    }

    /// The circuit of `dependency`, if it has one.
    public subscript(_ dependency: String) -> SharedCircuitBreaker? { breakers[dependency] }

    /// `checks.dependencies` of `/ready`: each dependency's state by name; nil with none.
    var readiness: JSONValue? {
        guard !breakers.isEmpty else { return nil }
        var object: JSONObject = [:]
        for name in breakers.keys.sorted() { object[name] = .string(breakers[name]!.state.rawValue) }
        return .object(object)
    }
}
