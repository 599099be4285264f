"""Implementations of the catalog's ports; IO lives here, never in the domain modules."""

from __future__ import annotations

from .memory import InMemoryLocationReader

__all__ = ["InMemoryLocationReader"]
