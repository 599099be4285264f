"""Pins the public names of ``blacktop.environments`` so a change to the surface is a deliberate diff."""

from __future__ import annotations

import blacktop.environments as environments

PINNED = [
    "FINALIZER", "GROUP", "KIND", "KINDS", "PREVIEW_ENVIRONMENT", "VERSION", "Decision", "Dependency", "Observed",
    "Preview", "PreviewSpec", "RenderSettings", "ServiceTarget", "admission_policy", "durations", "format_duration",
    "kinds", "model", "parse_duration", "parse_preview", "plan_cleanup", "plan_preview", "preview_namespace",
    "problems_in", "reconcile", "render_files", "render_objects", "rendering", "validation",
]  # fmt: skip


def test_public_surface_is_pinned_and_sorted() -> None:
    assert environments.__all__ == PINNED
    assert environments.__all__ == sorted(environments.__all__, key=lambda n: (not n.isupper(), n))
    assert all(hasattr(environments, name) for name in environments.__all__)
