"""The portal's public surface: what the composition root may use."""

from __future__ import annotations

from blacktop import web

PINNED = ["PortalServices", "install"]


def test_public_surface_is_pinned_and_sorted() -> None:
    assert web.__all__ == PINNED
    assert web.__all__ == sorted(web.__all__)
    assert all(hasattr(web, name) for name in web.__all__)
