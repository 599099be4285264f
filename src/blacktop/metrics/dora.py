"""The four DORA metrics over a set of deployment and incident records: pure maths, no IO, no clock.

Definitions (docs/metrics.md explains them for users):

* **Deployment frequency**: successful deployments that finished in the window, per day and per
  week. No deployment at all in the window (succeeded or failed) is "no data", not zero.
* **Lead time for changes**: for each change (commit) shipped by a successful deployment in the
  window, the time from its commit to that deployment's finish; a change counts once, on the first
  successful deployment that shipped it to the environment. Median and 90th percentile.
* **Change failure rate**: deployments in the window that failed, were rolled back, were flagged as
  causing an incident, or are named by an incident, over all deployments in the window.
* **Time to restore service** (DORA 2023+: failed deployment recovery time): for incidents
  resolved in the window, the time from opened to resolved; the median.

Bands follow the DORA State of DevOps reports (2023, 2024), whose published cluster values are read
as thresholds; ``docs/metrics.md`` lists them with the report's own wording.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final

from . import model


class Band(StrEnum):
    """DORA's performance levels."""

    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


DAY: Final = timedelta(days=1)
WEEK: Final = timedelta(days=7)
MONTH: Final = timedelta(days=30)


def frequency_band(per_day: float) -> Band:
    """Elite: on demand (daily or more); high: daily to weekly; medium: weekly to monthly; low: less."""
    if per_day >= 1:
        return Band.ELITE
    if per_day >= 1 / 7:
        return Band.HIGH
    if per_day >= 1 / 30:
        return Band.MEDIUM
    return Band.LOW


def lead_time_band(median: timedelta) -> Band:
    """Elite: under a day; high: under a week; medium: under a month; low: a month or more."""
    if median < DAY:
        return Band.ELITE
    if median < WEEK:
        return Band.HIGH
    if median < MONTH:
        return Band.MEDIUM
    return Band.LOW


def change_failure_band(rate: float) -> Band:
    """Elite: at most 5%; high: at most 10%; medium: at most 15%; low: more (the 2023 report's clusters)."""
    if rate <= 0.05:
        return Band.ELITE
    if rate <= 0.10:
        return Band.HIGH
    if rate <= 0.15:
        return Band.MEDIUM
    return Band.LOW


def restore_band(median: timedelta) -> Band:
    """Elite: under an hour; high: under a day; medium: under a week; low: a week or more."""
    if median < timedelta(hours=1):
        return Band.ELITE
    if median < DAY:
        return Band.HIGH
    if median < WEEK:
        return Band.MEDIUM
    return Band.LOW


def median(values: Sequence[timedelta]) -> timedelta:
    """The median (the mean of the two middle values for an even count); ``values`` must not be empty."""
    seconds = statistics.median(v.total_seconds() for v in values)
    return timedelta(seconds=seconds)


def percentile(values: Sequence[timedelta], fraction: float) -> timedelta:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Frequency:
    """Deployment frequency over a window."""

    deployments: int
    per_day: float
    per_week: float
    band: Band


@dataclass(frozen=True, slots=True)
class LeadTime:
    """Lead time for changes over a window."""

    changes: int
    median: timedelta
    p90: timedelta
    band: Band


@dataclass(frozen=True, slots=True)
class ChangeFailure:
    """Change failure rate over a window."""

    deployments: int
    failures: int
    rate: float
    band: Band


@dataclass(frozen=True, slots=True)
class Restore:
    """Time to restore service over a window; ``open`` counts incidents still unresolved at its end."""

    incidents: int
    open: int
    median: timedelta
    band: Band


@dataclass(frozen=True, slots=True)
class Metrics:
    """The four metrics of one scope; None where the window holds no data for it."""

    deployment_frequency: Frequency | None
    lead_time: LeadTime | None
    change_failure_rate: ChangeFailure | None
    time_to_restore: Restore | None
    open_incidents: int = 0


def in_window(deployments: Iterable[model.Deployment], window: model.Window) -> list[model.Deployment]:
    """The deployments that finished in the window."""
    return [d for d in deployments if window.contains(d.finished_at)]


def compute_frequency(deployments: Sequence[model.Deployment], window: model.Window) -> Frequency | None:
    """Successful deployments per day and week; None when nothing was deployed in the window."""
    attempted = in_window(deployments, window)
    if not attempted:
        return None
    count = sum(1 for d in attempted if d.succeeded)
    per_day = count / window.days
    return Frequency(deployments=count, per_day=per_day, per_week=per_day * 7, band=frequency_band(per_day))


def change_lead_times(deployments: Sequence[model.Deployment], window: model.Window) -> list[timedelta]:
    """One lead time per change first shipped successfully in the window (commit to deployment finished)."""
    first_shipped: dict[tuple[str, str, str], tuple[model.Deployment, model.Commit]] = {}
    for deployment in sorted((d for d in deployments if d.succeeded), key=lambda d: d.finished_at):
        for commit in deployment.commits:
            key = (deployment.service, deployment.environment, commit.sha.lower())
            first_shipped.setdefault(key, (deployment, commit))
    times = []
    for deployment, commit in first_shipped.values():
        if commit.at is None or not window.contains(deployment.finished_at):
            continue
        # A commit dated after its deployment is clock skew; it shipped at once, not in negative time.
        times.append(max(deployment.finished_at - commit.at, timedelta(0)))
    return times


def compute_lead_time(deployments: Sequence[model.Deployment], window: model.Window) -> LeadTime | None:
    """Median and p90 lead time for changes; None when no change with a known time shipped in the window."""
    times = change_lead_times(deployments, window)
    if not times:
        return None
    middle = median(times)
    return LeadTime(changes=len(times), median=middle, p90=percentile(times, 0.9), band=lead_time_band(middle))


def is_failure(deployment: model.Deployment, blamed: frozenset[tuple[str, str]]) -> bool:
    """Whether a deployment counts as a failed change."""
    return not deployment.succeeded or deployment.rolled_back or deployment.caused_incident or deployment.key in blamed


def compute_change_failure(
    deployments: Sequence[model.Deployment], incidents: Sequence[model.Incident], window: model.Window
) -> ChangeFailure | None:
    """Failed or incident-causing deployments over all deployments in the window; None without deployments."""
    attempted = in_window(deployments, window)
    if not attempted:
        return None
    blamed = frozenset(k for k in (i.deployment_key for i in incidents) if k is not None)
    failures = sum(1 for d in attempted if is_failure(d, blamed))
    rate = failures / len(attempted)
    return ChangeFailure(deployments=len(attempted), failures=failures, rate=rate, band=change_failure_band(rate))


def open_incidents(incidents: Sequence[model.Incident], window: model.Window) -> int:
    """Incidents opened by the window's end and not resolved by then."""
    return sum(
        1 for i in incidents if i.opened_at <= window.end and (i.resolved_at is None or i.resolved_at > window.end)
    )


def compute_restore(incidents: Sequence[model.Incident], window: model.Window) -> Restore | None:
    """Median time from opened to resolved of incidents resolved in the window; None when none was."""
    times = [
        i.resolved_at - i.opened_at for i in incidents if i.resolved_at is not None and window.contains(i.resolved_at)
    ]
    if not times:
        return None
    middle = median(times)
    return Restore(
        incidents=len(times), open=open_incidents(incidents, window), median=middle, band=restore_band(middle)
    )


def compute_metrics(
    deployments: Sequence[model.Deployment],
    incidents: Sequence[model.Incident],
    window: model.Window,
    *,
    blame: Sequence[model.Incident] | None = None,
) -> Metrics:
    """All four metrics of one scope's records (already filtered to the scope and environment).

    ``blame`` are the incidents whose ``deployment`` marks a deployment failed (default: ``incidents``);
    reports pass every incident, so an incident filed against another service still blames the deployment.
    """
    return Metrics(
        deployment_frequency=compute_frequency(deployments, window),
        lead_time=compute_lead_time(deployments, window),
        change_failure_rate=compute_change_failure(deployments, incidents if blame is None else blame, window),
        time_to_restore=compute_restore(incidents, window),
        open_incidents=open_incidents(incidents, window),
    )
