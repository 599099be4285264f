"""The four DORA metrics computed by hand on small record sets, the bands at their edges, and properties.

Test design notes: every window ends at ``conftest.END``; record times are given in days before it
and commit times in hours before their deployment finished, so each expected value can be checked
with pencil and paper. Properties run the maths on generated record sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.metrics import dora, model, reporting

from .conftest import END, dep, inc, window

H = timedelta(hours=1)


@dataclass(frozen=True)
class FrequencyCase:
    deployments: list[model.Deployment]
    days: int
    want: dora.Frequency | None


FREQUENCY = {
    "no-deployments-is-no-data": FrequencyCase([], 7, None),
    "only-failures-is-zero-not-no-data": FrequencyCase(
        [dep(1, ok=False), dep(2, ok=False)], 7, dora.Frequency(0, 0.0, 0.0, dora.Band.LOW)
    ),
    "daily-is-elite": FrequencyCase([dep(d + 0.5) for d in range(7)], 7, dora.Frequency(7, 1.0, 7.0, dora.Band.ELITE)),
    "one-a-week-is-high": FrequencyCase([dep(3), dep(8)], 7, dora.Frequency(1, 1 / 7, 1.0, dora.Band.HIGH)),
    "one-in-30-days-is-medium": FrequencyCase([dep(20)], 30, dora.Frequency(1, 1 / 30, 7 / 30, dora.Band.MEDIUM)),
    "one-in-90-days-is-low": FrequencyCase([dep(60)], 90, dora.Frequency(1, 1 / 90, 7 / 90, dora.Band.LOW)),
    "window-start-is-excluded-end-included": FrequencyCase(
        [dep(7), dep(0)], 7, dora.Frequency(1, 1 / 7, 1.0, dora.Band.HIGH)
    ),
}


@pytest.mark.parametrize("case", FREQUENCY.values(), ids=FREQUENCY.keys())
def test_deployment_frequency(case: FrequencyCase) -> None:
    got = dora.compute_frequency(case.deployments, window(case.days))
    if case.want is None:
        assert got is None
        return
    assert got is not None
    assert (got.deployments, got.band) == (case.want.deployments, case.want.band)
    assert got.per_day == pytest.approx(case.want.per_day)
    assert got.per_week == pytest.approx(case.want.per_week)


@dataclass(frozen=True)
class LeadCase:
    deployments: list[model.Deployment]
    want: tuple[int, timedelta, timedelta, dora.Band] | None


LEAD = {
    "no-deployments": LeadCase([], None),
    "three-changes-median-and-nearest-rank-p90": LeadCase(
        [dep(1, commits=(("a1", 1), ("b2", 3), ("c3", 2)))], (3, 2 * H, 3 * H, dora.Band.ELITE)
    ),
    "even-count-median-is-the-mean-of-the-middle-two": LeadCase(
        [dep(1, commits=(("a1", 1), ("b2", 2))), dep(2, commits=(("c3", 3), ("d4", 4)))],
        (4, 2.5 * H, 4 * H, dora.Band.ELITE),
    ),
    "a-change-counts-once-on-its-first-deployment": LeadCase(
        [dep(5, commits=(("a1", 24),)), dep(3, commits=(("a1", 72),))], (1, 24 * H, 24 * H, dora.Band.HIGH)
    ),
    "failed-deployments-ship-nothing": LeadCase([dep(1, ok=False, commits=(("a1", 1),))], None),
    "commits-without-a-time-are-skipped": LeadCase([dep(1, commits=(("a1", None),))], None),
    "first-shipped-before-the-window-is-not-counted": LeadCase(
        [dep(10, commits=(("a1", 1),)), dep(1, commits=(("a1", 5),))], None
    ),
    "a-week-is-medium": LeadCase([dep(1, commits=(("a1", 24 * 7),))], (1, 7 * 24 * H, 7 * 24 * H, dora.Band.MEDIUM)),
    "a-commit-after-its-deployment-is-zero": LeadCase(
        [dep(1, commits=(("a1", -2),))], (1, 0 * H, 0 * H, dora.Band.ELITE)
    ),
}


@pytest.mark.parametrize("case", LEAD.values(), ids=LEAD.keys())
def test_lead_time_for_changes(case: LeadCase) -> None:
    got = dora.compute_lead_time(case.deployments, window(7))
    assert (None if got is None else (got.changes, got.median, got.p90, got.band)) == case.want


@dataclass(frozen=True)
class FailureCase:
    deployments: list[model.Deployment]
    incidents: list[model.Incident]
    want: tuple[int, int, float, dora.Band] | None


FAILURE = {
    "no-deployments": FailureCase([], [inc(1, 30)], None),
    "failed-and-incident-flag-count": FailureCase(
        [dep(1, ok=False), dep(2, caused_incident=True), dep(3), dep(4)], [], (4, 2, 0.5, dora.Band.LOW)
    ),
    "rolled-back-counts": FailureCase([dep(1, rolled_back=True), dep(2)], [], (2, 1, 0.5, dora.Band.LOW)),
    "one-in-twenty-is-elite": FailureCase(
        [dep(0.1 * i) for i in range(1, 20)] + [dep(3, ok=False)], [], (20, 1, 0.05, dora.Band.ELITE)
    ),
    "named-by-an-incident-counts": FailureCase(
        [dep(0.5 * i, name=f"d{i}") for i in range(1, 11)], [inc(1, 10, deployment="d3")], (10, 1, 0.1, dora.Band.HIGH)
    ),
    "outside-the-window-is-ignored": FailureCase([dep(9, ok=False), dep(1)], [], (1, 0, 0.0, dora.Band.ELITE)),
}


@pytest.mark.parametrize("case", FAILURE.values(), ids=FAILURE.keys())
def test_change_failure_rate(case: FailureCase) -> None:
    got = dora.compute_change_failure(case.deployments, case.incidents, window(7))
    assert (None if got is None else (got.deployments, got.failures, got.rate, got.band)) == case.want


@dataclass(frozen=True)
class RestoreCase:
    incidents: list[model.Incident]
    want: tuple[int, int, timedelta, dora.Band] | None
    open: int = 0


RESTORE = {
    "no-incidents": RestoreCase([], None),
    "median-of-three": RestoreCase(
        [inc(1, 30), inc(2, 90), inc(3, 600)], (3, 0, timedelta(minutes=90), dora.Band.HIGH)
    ),
    "under-an-hour-is-elite": RestoreCase([inc(1, 20), inc(2, 40)], (2, 0, timedelta(minutes=30), dora.Band.ELITE)),
    "only-open-incidents-is-no-data": RestoreCase([inc(1, None)], None, open=1),
    "resolved-before-the-window-is-ignored": RestoreCase(
        [inc(20, 60), inc(4, 60 * 24 * 3)], (1, 0, timedelta(days=3), dora.Band.MEDIUM)
    ),
    "resolved-after-the-end-is-open": RestoreCase(
        [inc(0.01, 60), inc(9, 60 * 24 * 8)], (1, 1, timedelta(days=8), dora.Band.LOW), open=1
    ),
}


@pytest.mark.parametrize("case", RESTORE.values(), ids=RESTORE.keys())
def test_time_to_restore(case: RestoreCase) -> None:
    got = dora.compute_restore(case.incidents, window(7))
    assert (None if got is None else (got.incidents, got.open, got.median, got.band)) == case.want
    assert dora.open_incidents(case.incidents, window(7)) == case.open


BANDS = {
    "frequency-1-per-day": (dora.frequency_band, 1.0, dora.Band.ELITE),
    "frequency-just-under-1-per-day": (dora.frequency_band, 0.99, dora.Band.HIGH),
    "frequency-1-per-week": (dora.frequency_band, 1 / 7, dora.Band.HIGH),
    "frequency-1-per-month": (dora.frequency_band, 1 / 30, dora.Band.MEDIUM),
    "frequency-less": (dora.frequency_band, 1 / 31, dora.Band.LOW),
    "lead-just-under-a-day": (dora.lead_time_band, timedelta(hours=23, minutes=59), dora.Band.ELITE),
    "lead-a-day": (dora.lead_time_band, timedelta(days=1), dora.Band.HIGH),
    "lead-a-month": (dora.lead_time_band, timedelta(days=30), dora.Band.LOW),
    "cfr-5": (dora.change_failure_band, 0.05, dora.Band.ELITE),
    "cfr-10": (dora.change_failure_band, 0.10, dora.Band.HIGH),
    "cfr-15": (dora.change_failure_band, 0.15, dora.Band.MEDIUM),
    "cfr-16": (dora.change_failure_band, 0.16, dora.Band.LOW),
    "restore-59m": (dora.restore_band, timedelta(minutes=59), dora.Band.ELITE),
    "restore-1h": (dora.restore_band, timedelta(hours=1), dora.Band.HIGH),
    "restore-6d": (dora.restore_band, timedelta(days=6), dora.Band.MEDIUM),
    "restore-1w": (dora.restore_band, timedelta(days=7), dora.Band.LOW),
}


@pytest.mark.parametrize(("band", "value", "want"), BANDS.values(), ids=BANDS.keys())
def test_bands_at_their_edges(band: object, value: object, want: dora.Band) -> None:
    assert callable(band)
    assert band(value) == want


# -- properties ----------------------------------------------------------------------------------

deployments_strategy = st.lists(
    st.builds(
        lambda days, ok, failed_flag, hours: dep(
            days, ok=ok, caused_incident=failed_flag, commits=tuple((f"{i:07x}", h) for i, h in enumerate(hours))
        ),
        st.floats(min_value=0, max_value=120, allow_nan=False),
        st.booleans(),
        st.booleans(),
        st.lists(st.floats(min_value=0, max_value=24 * 60, allow_nan=False), max_size=4),
    ),
    max_size=30,
)


@settings(max_examples=80, deadline=None)
@given(deployments_strategy, st.sampled_from(model.STANDARD_WINDOWS))
def test_change_failure_rate_is_a_ratio(deployments: list[model.Deployment], days: int) -> None:
    got = dora.compute_change_failure(deployments, [], window(days))
    if got is None:
        assert not dora.in_window(deployments, window(days))
    else:
        assert 0.0 <= got.rate <= 1.0
        assert 0 <= got.failures <= got.deployments


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(min_value=0.001, max_value=6.999, allow_nan=False), min_size=1, max_size=40))
def test_frequency_scales_with_the_window(days_before_end: list[float]) -> None:
    deployments = [dep(d) for d in days_before_end]
    counts = []
    for days in model.STANDARD_WINDOWS:
        got = dora.compute_frequency(deployments, window(days))
        assert got is not None
        assert got.per_day * days == pytest.approx(len(deployments))
        assert got.per_week == pytest.approx(got.per_day * 7)
        counts.append(got.per_day)
    # The same deployments over a longer window are rarer per day.
    assert counts == sorted(counts, reverse=True)


@settings(max_examples=80, deadline=None)
@given(deployments_strategy)
def test_widening_the_window_never_loses_deployments(deployments: list[model.Deployment]) -> None:
    seen = [len(dora.in_window(deployments, window(days))) for days in model.STANDARD_WINDOWS]
    assert seen == sorted(seen)


@settings(max_examples=80, deadline=None)
@given(deployments_strategy, st.sampled_from(model.STANDARD_WINDOWS))
def test_lead_time_median_is_at_most_p90_and_never_negative(deployments: list[model.Deployment], days: int) -> None:
    got = dora.compute_lead_time(deployments, window(days))
    if got is not None:
        assert timedelta(0) <= got.median <= got.p90
        assert got.changes == len(dora.change_lead_times(deployments, window(days)))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50),
    st.floats(min_value=0.01, max_value=1.0, allow_nan=False),
)
def test_nearest_rank_percentile(seconds: list[int], fraction: float) -> None:
    values = [timedelta(seconds=s) for s in seconds]
    got = dora.percentile(values, fraction)
    assert got in values
    assert sum(1 for v in values if v <= got) >= fraction * len(values)
    assert sum(1 for v in values if v < got) < fraction * len(values)


def test_window_end_is_the_fixed_instant() -> None:
    assert window(30).end == END and window(30).start == END - timedelta(days=30)


services_strategy = st.sampled_from([f"component:default/s{i}" for i in range(5)])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=40, allow_nan=False), st.booleans(), services_strategy), max_size=30
    ),
    st.dictionaries(services_strategy, st.sampled_from(["group:default/a", "group:default/b"])),
)
def test_scopes_partition_the_organisation(rows: list[tuple[float, bool, str]], owners: dict[str, str]) -> None:
    deployments = [dep(days, ok=ok, service=svc, name=f"d{i}") for i, (days, ok, svc) in enumerate(rows)]
    report = reporting.compute_report(deployments, [], window=window(30), owners=owners)

    def attempted(row: reporting.Row) -> int:
        found = row.metrics.change_failure_rate
        return 0 if found is None else found.deployments

    assert report.organisation is not None
    total = attempted(report.organisation)
    assert sum(attempted(r) for r in report.teams) == total
    assert sum(attempted(r) for r in report.services) == total
    assert {r.team for r in report.services} <= {r.name for r in report.teams}
