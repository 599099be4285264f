"""blacktop's own metrics (not the observability feature it offers to services).

One ``PlatformMetrics`` object per process owns a private prometheus-client registry, so tests
can build many apps without clashing registrations.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class PlatformMetrics:
    """HTTP request and reconcile metrics served at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "blacktop_http_requests_total",
            "HTTP requests served",
            ["method", "route", "code"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "blacktop_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.reconciles = Counter(
            "blacktop_reconcile_total", "Reconciles run", ["kind", "outcome"], registry=self.registry
        )
        self.reconcile_seconds = Histogram(
            "blacktop_reconcile_duration_seconds",
            "Reconcile latency",
            ["kind"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
        )
        self.reconcile_errors = Counter(
            "blacktop_reconcile_errors_total", "Reconciles that failed", ["kind"], registry=self.registry
        )
        self.queue_depth = Gauge(
            "blacktop_reconcile_queue_depth", "Objects waiting to be reconciled", registry=self.registry
        )

    def observe_request(self, *, method: str, route: str, code: int, seconds: float) -> None:
        """Count one HTTP request and its latency."""
        self.requests.labels(method, route, str(code)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def observe_reconcile(self, *, kind: str, outcome: str, seconds: float) -> None:
        """Count one reconcile, its outcome and latency."""
        self.reconciles.labels(kind, outcome).inc()
        self.reconcile_seconds.labels(kind).observe(seconds)
        if outcome == "error":
            self.reconcile_errors.labels(kind).inc()

    def set_queue_depth(self, depth: int) -> None:
        """Record how many objects wait to be reconciled."""
        self.queue_depth.set(depth)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
