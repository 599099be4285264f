"""The records DORA metrics are computed from, as plain frozen values, and how stored objects become them.

Stored ``Deployment`` and ``Incident`` objects have passed their schema; ``parse_deployment`` and
``parse_incident`` turn them into values the maths can trust (timestamps parsed and zone-aware,
refs canonical) and report rules the schema cannot state, each with its field path. ``Window``
is the period a report covers: the ``days`` before ``end``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from blacktop import catalog
from blacktop.kernel.errors import InputError, Problem

MAX_WINDOW_DAYS: Final = 365
STANDARD_WINDOWS: Final = (7, 30, 90)
_WINDOW: Final = re.compile(r"^([0-9]{1,3})([dw])$")


@dataclass(frozen=True, slots=True)
class Commit:
    """One change shipped by a deployment; ``at`` is when it was committed (authored when that is all we know)."""

    sha: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Deployment:
    """A finished deployment of a service to an environment."""

    namespace: str
    name: str
    service: str
    environment: str
    finished_at: datetime
    succeeded: bool
    started_at: datetime | None = None
    version: str | None = None
    commit_sha: str | None = None
    commits: tuple[Commit, ...] = ()
    caused_incident: bool = False
    rolled_back: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """(namespace, name): how incidents point at it."""
        return (self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class Incident:
    """A degradation of a service; ``resolved_at`` is None while it is open."""

    namespace: str
    name: str
    service: str
    environment: str
    opened_at: datetime
    resolved_at: datetime | None = None
    severity: str = "sev3"
    deployment: str | None = None

    @property
    def deployment_key(self) -> tuple[str, str] | None:
        """(namespace, name) of the Deployment that caused it, when known."""
        return (self.namespace, self.deployment) if self.deployment else None


@dataclass(frozen=True, slots=True)
class Window:
    """The ``days`` days up to ``end`` (exclusive start, inclusive end)."""

    days: int
    end: datetime

    @property
    def start(self) -> datetime:
        """The window's beginning."""
        return self.end - timedelta(days=self.days)

    @property
    def label(self) -> str:
        """How the window is written: ``30d``."""
        return f"{self.days}d"

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in the window."""
        return self.start < moment <= self.end


def parse_window(text: str, *, end: datetime, path: str = "window") -> Window:
    """Parse ``7d``/``30d``/``90d`` (any 1-365 days, or weeks as ``4w``) ending at ``end``."""
    match = _WINDOW.match(text.strip())
    days = 0 if match is None else int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise InputError(
            f"window {text!r} is not a period blacktop reports over",
            problems=[Problem(path, f"write days or weeks such as 7d, 30d, 90d or 4w (1 to {MAX_WINDOW_DAYS} days)")],
        )
    return Window(days=days, end=end)


def parse_timestamp(value: Any, path: str, problems: list[Problem]) -> datetime | None:
    """An RFC 3339 timestamp as an aware UTC datetime; a problem at ``path`` when it is not one."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            problems.append(Problem(path, f"{value!r} is not an RFC 3339 timestamp such as 2026-11-02T09:30:00Z"))
            return None
    else:
        problems.append(Problem(path, f"must be an RFC 3339 timestamp string, got {type(value).__name__}"))
        return None
    if moment.tzinfo is None:
        problems.append(Problem(path, f"{value!r} has no time zone; add Z or an offset such as +01:00"))
        return None
    return moment.astimezone(UTC)


def canonical_service(value: Any, path: str, problems: list[Problem]) -> str:
    """The canonical ``kind:namespace/name`` of a service ref (a bare name is a component in ``default``)."""
    if not isinstance(value, str) or not value:
        problems.append(Problem(path, "is required: the catalog component, e.g. component:default/payments"))
        return ""
    try:
        return catalog.parse_ref(value, default_kind="component").key
    except catalog.InvalidEntityRef as exc:
        problems.append(Problem(path, str(exc)))
        return ""


def _identity(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or "default"), str(meta.get("name") or "")


def parse_deployment(obj: Mapping[str, Any]) -> Deployment:
    """The ``Deployment`` value of a stored object; ``InputError`` listing every problem otherwise."""
    spec = obj.get("spec") or {}
    problems: list[Problem] = []
    namespace, name = _identity(obj)
    service = canonical_service(spec.get("service"), "spec.service", problems)
    started = parse_timestamp(spec.get("startedAt"), "spec.startedAt", problems)
    finished = parse_timestamp(spec.get("finishedAt"), "spec.finishedAt", problems)
    if finished is None and spec.get("finishedAt") is None:
        problems.append(Problem("spec.finishedAt", "is required: when the deployment finished"))
    if started is not None and finished is not None and finished < started:
        problems.append(Problem("spec.finishedAt", "is before spec.startedAt; a deployment finishes after it starts"))
    status = spec.get("status")
    if status not in ("succeeded", "failed"):
        problems.append(Problem("spec.status", f"{status!r} is not one of 'succeeded', 'failed'"))
    commits = []
    for index, item in enumerate(spec.get("commits") or []):
        at_path = f"spec.commits[{index}]"
        committed = parse_timestamp(item.get("committedAt"), f"{at_path}.committedAt", problems)
        authored = parse_timestamp(item.get("authoredAt"), f"{at_path}.authoredAt", problems)
        commits.append(Commit(sha=str(item.get("sha") or ""), at=committed or authored))
    environment = str(spec.get("environment") or "")
    if not environment:
        problems.append(Problem("spec.environment", "is required, e.g. production"))
    if problems or finished is None:
        raise InputError(f"deployment record {namespace}/{name} is invalid", problems=problems)
    return Deployment(
        namespace=namespace,
        name=name,
        service=service,
        environment=environment,
        finished_at=finished,
        succeeded=status == "succeeded",
        started_at=started,
        version=spec.get("version"),
        commit_sha=spec.get("commitSha"),
        commits=tuple(commits),
        caused_incident=bool(spec.get("causedIncident")),
        rolled_back=bool(spec.get("rolledBack")),
    )


def parse_incident(obj: Mapping[str, Any]) -> Incident:
    """The ``Incident`` value of a stored object; ``InputError`` listing every problem otherwise."""
    spec = obj.get("spec") or {}
    problems: list[Problem] = []
    namespace, name = _identity(obj)
    service = canonical_service(spec.get("service"), "spec.service", problems)
    opened = parse_timestamp(spec.get("openedAt"), "spec.openedAt", problems)
    if opened is None and spec.get("openedAt") is None:
        problems.append(Problem("spec.openedAt", "is required: when the incident was detected"))
    resolved = parse_timestamp(spec.get("resolvedAt"), "spec.resolvedAt", problems)
    if opened is not None and resolved is not None and resolved < opened:
        problems.append(Problem("spec.resolvedAt", "is before spec.openedAt; an incident is resolved after it opens"))
    environment = str(spec.get("environment") or "")
    if not environment:
        problems.append(Problem("spec.environment", "is required, e.g. production"))
    if problems or opened is None:
        raise InputError(f"incident record {namespace}/{name} is invalid", problems=problems)
    return Incident(
        namespace=namespace,
        name=name,
        service=service,
        environment=environment,
        opened_at=opened,
        resolved_at=resolved,
        severity=str(spec.get("severity") or "sev3"),
        deployment=spec.get("deployment") or None,
    )
