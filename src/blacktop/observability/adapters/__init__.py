"""IO adapters of the observability feature: Prometheus over HTTP and a locally run Prometheus process."""

from .local_prometheus import LocalPrometheus, find_prometheus
from .prometheus_http import HttpPrometheus

__all__ = ["HttpPrometheus", "LocalPrometheus", "find_prometheus"]
