"""Rotation policy maths: when a secret is due, and how long superseded versions stay readable.

The design's defaults are built in: service-account credentials rotate every 90 days and
short-lived tokens every 24 hours. When a rotation happens the new version becomes current at
once; consumers pick it up on their next refresh, so the previous version must stay readable for a
grace period (at least one consumer refresh interval) and is destroyed after it.

Everything here is pure and takes ``now``: the engine asks :func:`plan_rotation` what to do, does
it (generate and put a new version, destroy expired ones) and requeues after ``requeue_after``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Final

from blacktop.kernel.errors import InputError, Problem

from . import model


@dataclass(frozen=True, slots=True)
class RotationPolicy:
    """Rotate every ``cadence``; keep superseded versions readable for ``grace_period``."""

    name: str
    cadence: timedelta
    grace_period: timedelta

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if self.cadence <= timedelta(0):
            problems.append(Problem(path="cadence", message="must be positive"))
        if self.grace_period < timedelta(0):
            problems.append(Problem(path="gracePeriod", message="must not be negative"))
        elif self.cadence > timedelta(0) and self.grace_period >= self.cadence:
            problems.append(Problem(path="gracePeriod", message="must be shorter than the cadence"))
        if problems:
            raise InputError(f"rotation policy {self.name!r} is invalid", problems=problems)


SERVICE_ACCOUNT: Final = RotationPolicy("service-account", cadence=timedelta(days=90), grace_period=timedelta(days=7))
SHORT_LIVED_TOKEN: Final = RotationPolicy(
    "short-lived-token", cadence=timedelta(hours=24), grace_period=timedelta(hours=1)
)
BUILT_IN_POLICIES: Final = {p.name: p for p in (SERVICE_ACCOUNT, SHORT_LIVED_TOKEN)}


@dataclass(frozen=True, slots=True)
class RotationPlan:
    """What to do now: rotate or not, which superseded versions to destroy, when to look again."""

    rotate: bool
    next_rotation_at: datetime
    expire_versions: tuple[int, ...]
    requeue_after: timedelta


def next_rotation_at(policy: RotationPolicy, *, last_rotated_at: datetime) -> datetime:
    """When the current version is due for rotation."""
    return last_rotated_at + policy.cadence


def is_due(policy: RotationPolicy, *, last_rotated_at: datetime | None, now: datetime) -> bool:
    """Whether a rotation is due; a secret never rotated is due at once."""
    return last_rotated_at is None or now >= next_rotation_at(policy, last_rotated_at=last_rotated_at)


def readable_until(policy: RotationPolicy, *, superseded_at: datetime) -> datetime:
    """The instant a superseded version stops being readable."""
    return superseded_at + policy.grace_period


def is_version_readable(policy: RotationPolicy, *, superseded_at: datetime | None, now: datetime) -> bool:
    """A current version (never superseded) is readable; a superseded one only within the grace period."""
    return superseded_at is None or now < readable_until(policy, superseded_at=superseded_at)


def superseded_times(metadata: model.SecretMetadata) -> dict[int, datetime]:
    """For every version except the newest, when the next version replaced it."""
    numbers = sorted(metadata.versions)
    return {v: metadata.versions[n].created_time for v, n in pairwise(numbers)}


def plan_rotation(policy: RotationPolicy, metadata: model.SecretMetadata, *, now: datetime) -> RotationPlan:
    """Decide rotation and expiry for one secret; the current version's creation is the last rotation."""
    current = metadata.versions.get(metadata.current_version)
    last = current.created_time if current is not None else None
    rotate = is_due(policy, last_rotated_at=last, now=now)
    due_at = now if last is None else next_rotation_at(policy, last_rotated_at=last)
    expire: list[int] = []
    wakeups: list[datetime] = []
    for version, superseded_at in superseded_times(metadata).items():
        meta = metadata.versions[version]
        if meta.destroyed:
            continue
        until = readable_until(policy, superseded_at=superseded_at)
        if now >= until:
            expire.append(version)
        else:
            wakeups.append(until)
    upcoming = [t for t in (due_at, *wakeups) if t > now]
    after = min(upcoming) - now if upcoming and not rotate else timedelta(0)
    if rotate:
        after = min([policy.grace_period, *[t - now for t in wakeups]]) if wakeups else policy.grace_period
    return RotationPlan(rotate=rotate, next_rotation_at=due_at, expire_versions=tuple(expire), requeue_after=after)
