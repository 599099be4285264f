"""Alert windows: the SLO period and the four multi-window burn-rate conditions.

Sloth calls this an ``AlertWindows`` spec: page (quick, slow) and ticket (quick, slow), each a
short and a long window and the share of the error budget that may burn in the long window. The
burn-rate factor follows from that share and the period; the built-in 30-day and 28-day sets are
the SRE workbook's. Separate from ``slo`` because windows are chosen per platform or per run,
not per SLO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from blacktop.kernel.errors import InputError, Problem

from . import formatting


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """One multi-window condition: the SLI over both windows exceeds ``factor`` times the budget."""

    short_ms: int
    long_ms: int
    factor: float


@dataclass(frozen=True, slots=True)
class AlertWindows:
    """The SLO period and the four burn-rate conditions (Sloth's ``AlertWindows`` spec)."""

    period_ms: int
    page_quick: BurnWindow
    page_slow: BurnWindow
    ticket_quick: BurnWindow
    ticket_slow: BurnWindow

    def sli_windows(self) -> tuple[int, ...]:
        """Every distinct alert window, ascending (the SLI recording windows besides the period)."""
        windows = {
            w
            for b in (self.page_quick, self.page_slow, self.ticket_quick, self.ticket_slow)
            for w in (b.short_ms, b.long_ms)
        }
        return tuple(sorted(windows))


def compute_burn_factor(*, budget_percent: float, period_ms: int, long_window_ms: int) -> float:
    """Sloth's factor: the burn rate that spends ``budget_percent`` of the budget in the long window.

    The operation order matches Sloth's Go code, so the float digits match too (5.6000000000000005).
    """
    period_hours = period_ms / 3_600_000
    long_hours = long_window_ms / 3_600_000
    return budget_percent * period_hours / 100 / long_hours


def parse_alert_windows(document: Mapping[str, Any]) -> AlertWindows:
    """Parse a ``sloth.slok.dev/v1 AlertWindows`` document into windows with computed factors."""
    problems: list[Problem] = []
    spec = document.get("spec") or {}
    try:
        period = formatting.parse_duration_ms(str(spec.get("sloPeriod", "")))
    except ValueError as exc:
        raise InputError(
            "AlertWindows spec has no valid sloPeriod",
            problems=[Problem(path="spec.sloPeriod", message=str(exc))],
        ) from exc
    windows: list[BurnWindow] = []
    for severity in ("page", "ticket"):
        for speed in ("quick", "slow"):
            path = f"spec.{severity}.{speed}"
            raw = (spec.get(severity) or {}).get(speed) or {}
            try:
                short = formatting.parse_duration_ms(str(raw.get("shortWindow", "")))
                long = formatting.parse_duration_ms(str(raw.get("longWindow", "")))
                budget = float(raw["errorBudgetPercent"])
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(Problem(path=path, message=f"needs errorBudgetPercent, shortWindow, longWindow: {exc}"))
                continue
            factor = compute_burn_factor(budget_percent=budget, period_ms=period, long_window_ms=long)
            windows.append(BurnWindow(short_ms=short, long_ms=long, factor=factor))
    if problems:
        raise InputError("AlertWindows spec is invalid", problems=problems)
    return AlertWindows(period, *windows)


def _google_windows(period_days: int) -> AlertWindows:
    period = period_days * 86_400_000
    hour = 3_600_000

    def window(budget: float, short_ms: int, long_ms: int) -> BurnWindow:
        factor = compute_burn_factor(budget_percent=budget, period_ms=period, long_window_ms=long_ms)
        return BurnWindow(short_ms=short_ms, long_ms=long_ms, factor=factor)

    return AlertWindows(
        period_ms=period,
        page_quick=window(2, 5 * 60_000, hour),
        page_slow=window(5, 30 * 60_000, 6 * hour),
        ticket_quick=window(10, 2 * hour, 24 * hour),
        ticket_slow=window(10, 6 * hour, 72 * hour),
    )


GOOGLE_30D: Final = _google_windows(30)
"""Sloth's default windows for a 30-day period (SRE workbook: 14.4, 6, 3 and 1)."""
GOOGLE_28D: Final = _google_windows(28)
"""Sloth's built-in windows for a 28-day period."""
