"""Per-request values that logs pick up without every call passing them (context variables)."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request being served, from the X-Request-ID header or generated."""
