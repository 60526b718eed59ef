import Metrics
import Prometheus

extension MetricsRegistry {
    /// Make this registry the process's swift-metrics backend, so metrics that libraries record
    /// through the swift-metrics API show on the same page. Once per process.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
    }
}
