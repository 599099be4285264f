"""DORA metrics: deployment frequency, lead time for changes, change failure rate and time to restore.

Inputs are platform resources, ``Deployment`` and ``Incident`` (group ``metrics.blacktop.dev``),
written into team namespaces through the write pipeline, by hand or by the webhook ingestion that
maps GitHub Actions and Argo CD payloads (``ingesting``). ``dora`` holds the maths, ``reporting``
the per-service, per-team (catalog ownership) and organisation reports, ``signatures`` the checks of
a delivery's signature or shared secret against the team's webhook secret. This package is pure domain
code; ``wiring/metrics.py`` reads the store and the catalog and serves the gauges.
"""

from . import dora, ingesting, kinds, model, ports, reporting, service, signatures
from .dora import Band, Metrics, compute_metrics
from .ingesting import Outcome, Target
from .kinds import DEPLOYMENT, GROUP, INCIDENT, KINDS, VERSION
from .model import Deployment, Incident, Window, parse_deployment, parse_incident, parse_window
from .reporting import Report, compute_report, render_report
from .service import Ingestion, MetricsService

__all__ = [
    "DEPLOYMENT",
    "GROUP",
    "INCIDENT",
    "KINDS",
    "VERSION",
    "Band",
    "Deployment",
    "Incident",
    "Ingestion",
    "Metrics",
    "MetricsService",
    "Outcome",
    "Report",
    "Target",
    "Window",
    "compute_metrics",
    "compute_report",
    "dora",
    "ingesting",
    "kinds",
    "model",
    "parse_deployment",
    "parse_incident",
    "parse_window",
    "ports",
    "render_report",
    "reporting",
    "service",
    "signatures",
]
