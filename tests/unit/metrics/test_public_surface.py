"""The metrics package's public names are pinned: changing them is a deliberate act."""

from __future__ import annotations

import blacktop.metrics as metrics

PUBLIC = [
    "DEPLOYMENT", "GROUP", "INCIDENT", "KINDS", "VERSION", "Band", "Deployment", "Incident", "Ingestion", "Metrics",
    "MetricsService", "Outcome", "Report", "Target", "Window", "compute_metrics", "compute_report", "dora",
    "ingesting", "kinds", "model", "parse_deployment", "parse_incident", "parse_window", "ports", "render_report",
    "reporting", "service", "signatures",
]  # fmt: skip


def test_public_surface_is_pinned() -> None:
    assert metrics.__all__ == PUBLIC
    assert all(hasattr(metrics, name) for name in PUBLIC)
