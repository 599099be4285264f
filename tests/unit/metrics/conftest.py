"""Builders shared by the metrics unit tests: records relative to a fixed window end, and the payload samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from blacktop.metrics import model

END = datetime(2026, 11, 30, tzinfo=UTC)
"""Every test window ends here."""
PAYLOADS = Path(__file__).resolve().parent / "payloads"


def window(days: int = 7) -> model.Window:
    """The ``days`` days up to ``END``."""
    return model.Window(days=days, end=END)


def at(days_before_end: float) -> datetime:
    """The instant ``days_before_end`` days before ``END``."""
    return END - timedelta(days=days_before_end)


def dep(
    days_before_end: float,
    *,
    ok: bool = True,
    commits: tuple[tuple[str, float | None], ...] = (),
    service: str = "component:default/pay",
    environment: str = "production",
    name: str | None = None,
    caused_incident: bool = False,
    rolled_back: bool = False,
) -> model.Deployment:
    """A deployment finished ``days_before_end`` days before ``END``; commits are (sha, hours before its finish)."""
    finished = at(days_before_end)
    return model.Deployment(
        namespace="team",
        name=name or f"d-{days_before_end}-{ok}-{service.rsplit('/', 1)[-1]}",
        service=service,
        environment=environment,
        finished_at=finished,
        succeeded=ok,
        commits=tuple(
            model.Commit(sha, None if hours is None else finished - timedelta(hours=hours)) for sha, hours in commits
        ),
        caused_incident=caused_incident,
        rolled_back=rolled_back,
    )


def inc(
    opened_days_before_end: float,
    resolved_after_minutes: float | None,
    *,
    service: str = "component:default/pay",
    deployment: str | None = None,
    environment: str = "production",
) -> model.Incident:
    """An incident opened ``opened_days_before_end`` days before ``END``, resolved minutes later (None: open)."""
    opened = at(opened_days_before_end)
    resolved = None if resolved_after_minutes is None else opened + timedelta(minutes=resolved_after_minutes)
    return model.Incident(
        namespace="team",
        name=f"i-{opened_days_before_end}",
        service=service,
        environment=environment,
        opened_at=opened,
        resolved_at=resolved,
        deployment=deployment,
    )


def payload(name: str) -> dict[str, Any]:
    """A webhook payload sample from ``payloads/``."""
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded
