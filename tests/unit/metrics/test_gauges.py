"""The ``blacktop_dora_*`` gauges: values from the report, no series without data, bounded label sets.

Test design notes: the collector is fed reports built from the fixed data set or from many
generated services, then rendered with prometheus-client's text exposition as ``/metrics`` serves it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from blacktop.kernel.clock import FrozenClock
from blacktop.metrics import MetricsService, compute_report
from blacktop.wiring import metrics as metrics_wiring

from . import dataset
from .conftest import END, dep, window


def exposition(gauges: metrics_wiring.DoraGauges) -> str:
    registry = CollectorRegistry()
    registry.register(gauges)
    return generate_latest(registry).decode()


async def test_gauges_carry_the_30_day_report() -> None:
    service = MetricsService(
        records=dataset.FakeRecords(dataset.DEPLOYMENTS, dataset.INCIDENTS),
        owners=dataset.FakeOwners(dataset.OWNERS),
        writer=dataset.FakeWriter(),
        clock=FrozenClock(END),
    )
    gauges = metrics_wiring.DoraGauges()
    await metrics_wiring.GaugeRefresher(service, gauges).refresh()
    text = exposition(gauges)
    pay = 'scope="service",service="component:default/payment-service",team="group:default/team-payments",window="30d"'
    assert f"blacktop_dora_change_failure_ratio{{{pay}}} 0.3333333333333333" in text
    assert f'blacktop_dora_lead_time_seconds{{quantile="0.5",{pay}}} 10800.0' in text
    assert f"blacktop_dora_time_to_restore_seconds{{{pay}}} 3600.0" in text
    # legacy-batch has no incident resolved: no restore series rather than a zero.
    assert 'blacktop_dora_time_to_restore_seconds{scope="service",service="component:default/legacy-batch"' not in text
    assert "blacktop_dora_series_dropped 0.0" in text


def test_label_sets_are_bounded_and_the_overflow_counted() -> None:
    services = metrics_wiring.MAX_SERVICES + 25
    deployments = [dep(1 + (i % 5), service=f"component:default/svc-{i:04d}") for i in range(services)]
    report = compute_report(deployments, [], window=window(30), owners={})
    gauges = metrics_wiring.DoraGauges()
    gauges.update(report)
    text = exposition(gauges)
    per_service = [
        line for line in text.splitlines() if line.startswith('blacktop_dora_deployments_per_day{scope="service"')
    ]
    assert len(per_service) == metrics_wiring.MAX_SERVICES
    assert "blacktop_dora_series_dropped 25.0" in text
