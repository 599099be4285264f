"""SLO reports: objective, attainment and error budget of a service, read from the generated recording rules.

The rules of ``rules`` record everything a report needs per SLO (``sloth_service``/``sloth_slo``
labels): ``slo:objective:ratio``, the period error ratio ``slo:sli_error:ratio_rate<period>``,
``slo:period_error_budget_remaining:ratio`` and ``slo:current_burn_rate:ratio``. A report is
therefore four instant queries and this pure fold of their results, which tests drive with samples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from . import ports

PERIOD: Final = "30d"
"""The SLO period of the generated rules (Sloth's 30-day default, ``alert_windows.GOOGLE_30D``)."""


def report_queries(service: str) -> dict[str, str]:
    """The instant queries of a report, by what they answer."""
    sel = f'{{sloth_service="{service}"}}'
    return {
        "objective": f"slo:objective:ratio{sel}",
        "error_ratio": f"slo:sli_error:ratio_rate{PERIOD}{sel}",
        "budget_remaining": f"slo:period_error_budget_remaining:ratio{sel}",
        "burn_rate": f"slo:current_burn_rate:ratio{sel}",
    }


@dataclass(frozen=True, slots=True)
class SloLine:
    """One SLO of a service: values are None where Prometheus has no data yet."""

    slo: str
    objective: float | None
    attainment: float | None
    budget_remaining: float | None
    burn_rate: float | None

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the API serves."""
        return {
            "slo": self.slo,
            "objective": self.objective,
            "attainment": self.attainment,
            "budgetRemaining": self.budget_remaining,
            "burnRate": self.burn_rate,
        }


@dataclass(frozen=True, slots=True)
class SloReport:
    """Every SLO of a service over the period, as Prometheus reports it."""

    service: str
    period: str
    source: str
    slos: tuple[SloLine, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the API serves."""
        return {
            "service": self.service,
            "period": self.period,
            "prometheus": self.source,
            "slos": [line.to_json() for line in self.slos],
        }


def compute_slo_report(service: str, results: Mapping[str, Sequence[ports.Sample]], *, source: str = "") -> SloReport:
    """Fold the query results (keyed as in ``report_queries``) into one line per SLO name."""
    values: dict[str, dict[str, float]] = {}
    for what, samples in results.items():
        for sample in samples:
            name = sample.labels.get("sloth_slo")
            # NaN (no traffic in the window) reads as "no data", as JSON has no NaN.
            if name and not math.isnan(sample.value):
                values.setdefault(name, {})[what] = sample.value
            elif name:
                values.setdefault(name, {})
    lines = []
    for name in sorted(values):
        got = values[name]
        error_ratio = got.get("error_ratio")
        lines.append(
            SloLine(
                slo=name,
                objective=got.get("objective"),
                attainment=None if error_ratio is None else 1 - error_ratio,
                budget_remaining=got.get("budget_remaining"),
                burn_rate=got.get("burn_rate"),
            )
        )
    return SloReport(service=service, period=PERIOD, source=source, slos=tuple(lines))


async def fetch_slo_report(querier: ports.MetricsQuerier, service: str) -> SloReport:
    """Ask ``querier`` the report's queries and fold the answers."""
    results = {what: await querier.fetch_instant(query) for what, query in report_queries(service).items()}
    return compute_slo_report(service, results, source=querier.url)
