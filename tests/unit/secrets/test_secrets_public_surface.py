"""Pins the public names of ``blacktop.secrets`` so a change to the surface is a deliberate diff."""

from __future__ import annotations

import blacktop.secrets as secrets


def test_public_surface_is_pinned_and_sorted() -> None:
    assert secrets.__all__ == sorted(secrets.__all__, key=lambda n: (not n.isupper(), n))
    assert all(hasattr(secrets, name) for name in secrets.__all__)
    assert {"SecretStoreService", "TemplateEngine", "parse_eso_document", "compute_target", "plan_rotation"} <= set(
        secrets.__all__
    )
    assert len(secrets.__all__) == 60
