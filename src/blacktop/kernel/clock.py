"""Time as a dependency: domain code receives a Clock instead of calling ``datetime.now()``.

Tests pass a ``FrozenClock`` and move it forward explicitly, so nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current time in UTC."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        """The frozen instant."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._now += delta

    def set(self, instant: datetime) -> None:
        """Jump to ``instant``."""
        self._now = instant


def format_timestamp(instant: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix and second precision, as Kubernetes writes timestamps."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or an offset) into an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
