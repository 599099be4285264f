"""Adapters for tenancy's ports; the SQL token store lives in ``blacktop.store``."""

from .memory import InMemoryTokenStore

__all__ = ["InMemoryTokenStore"]
