"""Prometheus rule generation for SLOs, following Sloth's rule layout exactly.

Per SLO there are three groups in this order: SLI recordings over every alert window plus the
SLO period, metadata recordings (objective, budget, burn rates, info), and the multi-window
multi-burn-rate page and ticket alerts. Names, labels and expressions match Sloth (v0.16 line)
so that dashboards and tooling written for Sloth work on blacktop's rules unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from . import alert_windows, formatting, plugins, slo

DEFAULT_VERSION: Final = "blacktop"
MODE_BLACKTOP: Final = "blacktop"


@dataclass(frozen=True, slots=True)
class RecordingRule:
    """A Prometheus recording rule."""

    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertingRule:
    """A Prometheus alerting rule (no ``for``: burn-rate windows already smooth the signal)."""

    alert: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


Rule = RecordingRule | AlertingRule


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """A named group of rules, evaluated together."""

    name: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class GeneratorInfo:
    """What ``sloth_slo_info`` reports about the generator: version, mode and spec format."""

    version: str = DEFAULT_VERSION
    mode: str = MODE_BLACKTOP
    spec: str = slo.SPEC_PROMETHEUS_V1


def compute_rule_groups(
    level: slo.ServiceLevel,
    *,
    windows: alert_windows.AlertWindows = alert_windows.GOOGLE_30D,
    info: GeneratorInfo | None = None,
    extra_labels: Mapping[str, str] | None = None,
    include_recordings: bool = True,
    include_alerts: bool = True,
) -> tuple[RuleGroup, ...]:
    """Generate every rule group for every SLO of a service level, in Sloth's order.

    ``include_recordings``/``include_alerts`` mirror Sloth's ``--disable-recordings`` and
    ``--disable-alerts``: the SLI and metadata groups, or the alert group, are left out.
    """
    info = info or GeneratorInfo(spec=level.spec)
    groups: list[RuleGroup] = []
    for one in level.slos:
        for group in compute_slo_rule_groups(one, windows=windows, info=info, extra_labels=extra_labels):
            is_alerts = group.name.startswith("sloth-slo-alerts-")
            if include_alerts if is_alerts else include_recordings:
                groups.append(group)
    return tuple(groups)


def compute_slo_rule_groups(
    objective: slo.SLO,
    *,
    windows: alert_windows.AlertWindows = alert_windows.GOOGLE_30D,
    info: GeneratorInfo | None = None,
    extra_labels: Mapping[str, str] | None = None,
) -> tuple[RuleGroup, ...]:
    """Generate the SLI, metadata and alert groups of one SLO; empty groups are left out.

    The SLO's plugins then rewrite the generated rules, in chain order.
    """
    info = info or GeneratorInfo()
    labels = {**objective.labels, **(extra_labels or {})}
    generated = _Generated(
        sli=_sli_rules(objective, windows, labels),
        meta=_meta_rules(objective, windows, labels, info),
        alerts=_alert_rules(objective, windows),
    )
    for ref in objective.plugins:
        generated = _SLO_PLUGINS[ref.id](objective, ref, windows, labels, generated)
    candidates = (
        RuleGroup(f"sloth-slo-sli-recordings-{objective.id}", generated.sli),
        RuleGroup(f"sloth-slo-meta-recordings-{objective.id}", generated.meta),
        RuleGroup(f"sloth-slo-alerts-{objective.id}", generated.alerts),
    )
    return tuple(g for g in candidates if g.rules)


@dataclass(frozen=True, slots=True)
class _Generated:
    """The three rule lists of one SLO, as SLO plugins see and rewrite them."""

    sli: tuple[Rule, ...]
    meta: tuple[Rule, ...]
    alerts: tuple[Rule, ...]


_SLOPlugin = Callable[[slo.SLO, slo.PluginRef, alert_windows.AlertWindows, Mapping[str, str], _Generated], _Generated]


def _debug_plugin(
    objective: slo.SLO,
    ref: slo.PluginRef,
    windows: alert_windows.AlertWindows,
    labels: Mapping[str, str],
    rules: _Generated,
) -> _Generated:
    """``sloth.dev/core/debug/v1`` only logs in Sloth; the rules are unchanged."""
    return rules


def _denominator_corrected_plugin(
    objective: slo.SLO,
    ref: slo.PluginRef,
    windows: alert_windows.AlertWindows,
    labels: Mapping[str, str],
    rules: _Generated,
) -> _Generated:
    """``sloth.dev/contrib/denominator_corrected_rules/v1``: weigh errors by traffic volume.

    Each window's error count is scaled by ``slo:numerator_correction:ratio<w>`` (that window's
    traffic over the whole period's), so errors during quiet hours burn less budget. Replaces the
    SLI recordings and adds the correction recordings to the metadata group.
    """
    sli = objective.sli
    assert isinstance(sli, slo.EventsSLI)  # the parser refuses this plugin on other SLIs
    flt = _filter(objective)
    period = windows.period_ms
    period_text = formatting.format_duration_ms(period)
    corrected: list[Rule] = []
    for window_ms in (*windows.sli_windows(), period):
        window = formatting.format_duration_ms(window_ms)
        error, total = _fill(sli.error_query, window), _fill(sli.total_query, window)
        if window_ms != period:
            expr = f"(\nslo:numerator_correction:ratio{window}{flt}\n* on()\n{error}\n)\n/\n({total})\n"
        elif ref.config.get("disableOptimized"):
            expr = f"({error})\n/\n({total})\n"
        else:
            expr = _optimized_period_expr(objective, windows)
        corrected.append(
            RecordingRule(
                record=sli_record_name(window_ms),
                expr=expr,
                labels=_sorted({**_id_labels(objective), "sloth_window": window, **labels}),
            )
        )
    corrections = tuple(
        RecordingRule(
            record=f"slo:numerator_correction:ratio{window}",
            expr=f"({_fill(sli.total_query, window)})/({_fill(sli.total_query, period_text)})",
            labels=_sorted({**_id_labels(objective), **labels}),
        )
        for window in map(formatting.format_duration_ms, windows.sli_windows())
    )
    return _Generated(sli=tuple(corrected), meta=rules.meta + corrections, alerts=rules.alerts)


_SLO_PLUGINS: Final[Mapping[str, _SLOPlugin]] = {
    plugins.SLO_PLUGIN_DEBUG: _debug_plugin,
    plugins.SLO_PLUGIN_DENOMINATOR_CORRECTED: _denominator_corrected_plugin,
}


def _id_labels(objective: slo.SLO) -> dict[str, str]:
    return {"sloth_id": objective.id, "sloth_service": objective.service, "sloth_slo": objective.name}


def _filter(objective: slo.SLO) -> str:
    """The label matcher Sloth puts on every reference to its own recorded series."""
    pairs = sorted(_id_labels(objective).items())
    return "{" + ", ".join(f'{k}="{v}"' for k, v in pairs) + "}"


def _sorted(labels: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(labels.items()))


def sli_record_name(window_ms: int) -> str:
    """The SLI recording name for a window, e.g. ``slo:sli_error:ratio_rate5m``."""
    return f"slo:sli_error:ratio_rate{formatting.format_duration_ms(window_ms)}"


def _fill(query: str, window: str) -> str:
    """Substitute the window into a query's ``{{.window}}`` placeholders."""
    return slo.WINDOW_PLACEHOLDER.sub(window, query)


def _render_sli(sli: slo.SLI, window: str) -> str:
    if isinstance(sli, slo.EventsSLI):
        return f"({_fill(sli.error_query, window)})\n/\n({_fill(sli.total_query, window)})\n"
    return f"({_fill(sli.error_ratio_query, window)})"


def _optimized_period_expr(objective: slo.SLO, windows: alert_windows.AlertWindows) -> str:
    """The period SLI from the page-quick SLI samples, far cheaper than a 30d range over raw data."""
    period = formatting.format_duration_ms(windows.period_ms)
    base = sli_record_name(windows.page_quick.short_ms) + _filter(objective)
    return f"sum_over_time({base}[{period}])\n/ ignoring (sloth_window)\ncount_over_time({base}[{period}])\n"


def _sli_rules(objective: slo.SLO, windows: alert_windows.AlertWindows, labels: Mapping[str, str]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for window_ms in windows.sli_windows():
        window = formatting.format_duration_ms(window_ms)
        rules.append(
            RecordingRule(
                record=sli_record_name(window_ms),
                expr=_render_sli(objective.sli, window),
                labels=_sorted({**labels, **_id_labels(objective), "sloth_window": window}),
            )
        )
    period = formatting.format_duration_ms(windows.period_ms)
    rules.append(
        RecordingRule(
            record=sli_record_name(windows.period_ms),
            expr=_optimized_period_expr(objective, windows),
            labels=_sorted({**labels, **_id_labels(objective), "sloth_window": period}),
        )
    )
    return tuple(rules)


def _meta_rules(
    objective: slo.SLO, windows: alert_windows.AlertWindows, labels: Mapping[str, str], info: GeneratorInfo
) -> tuple[Rule, ...]:
    common = _sorted({**labels, **_id_labels(objective)})
    ratio = formatting.format_go_float(objective.objective / 100)
    days = formatting.format_go_float(windows.period_ms / 86_400_000)
    flt = _filter(objective)
    on = "/ on(sloth_id, sloth_slo, sloth_service) group_left\n"
    current = sli_record_name(windows.page_quick.short_ms)
    period = sli_record_name(windows.period_ms)
    info_labels = {
        **common,
        "sloth_version": info.version,
        "sloth_mode": info.mode,
        "sloth_spec": info.spec,
        "sloth_objective": formatting.format_go_float_fixed(objective.objective),
    }
    return (
        RecordingRule("slo:objective:ratio", f"vector({ratio})", common),
        RecordingRule("slo:error_budget:ratio", f"vector(1-{ratio})", common),
        RecordingRule("slo:time_period:days", f"vector({days})", common),
        RecordingRule("slo:current_burn_rate:ratio", f"{current}{flt}\n{on}slo:error_budget:ratio{flt}\n", common),
        RecordingRule("slo:period_burn_rate:ratio", f"{period}{flt}\n{on}slo:error_budget:ratio{flt}\n", common),
        RecordingRule("slo:period_error_budget_remaining:ratio", f"1 - slo:period_burn_rate:ratio{flt}", common),
        RecordingRule("sloth_slo_info", "vector(1)", _sorted(info_labels)),
    )


def _alert_expr(objective: slo.SLO, quick: alert_windows.BurnWindow, slow: alert_windows.BurnWindow) -> str:
    budget = formatting.format_go_float((100 - objective.objective) / 100)
    flt = _filter(objective)

    def cond(window_ms: int, factor: float) -> str:
        threshold = f"({formatting.format_go_float(factor)} * {budget})"
        return f"max({sli_record_name(window_ms)}{flt} > {threshold}) without (sloth_window)"

    def pair(burn: alert_windows.BurnWindow) -> str:
        return f"(\n    {cond(burn.short_ms, burn.factor)}\n    and\n    {cond(burn.long_ms, burn.factor)}\n)\n"

    return pair(quick) + "or\n" + pair(slow)


def _default_annotations(severity: str) -> dict[str, str]:
    return {
        "title": f"({severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO error budget "
        "burn rate is too fast.",
        "summary": "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected.",
    }


def _alert_rules(objective: slo.SLO, windows: alert_windows.AlertWindows) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    plan = (
        ("page", objective.page_alert, windows.page_quick, windows.page_slow),
        ("ticket", objective.ticket_alert, windows.ticket_quick, windows.ticket_slow),
    )
    for severity, meta, quick, slow in plan:
        if meta is None or objective.alert_name is None:
            continue
        rules.append(
            AlertingRule(
                alert=objective.alert_name,
                expr=_alert_expr(objective, quick, slow),
                labels=_sorted({"sloth_severity": severity, **meta.labels}),
                annotations=_sorted({**_default_annotations(severity), **meta.annotations}),
            )
        )
    return tuple(rules)


def rule_to_dict(rule: Rule) -> dict[str, object]:
    """One rule as the mapping Prometheus reads (``record``/``alert``, ``expr``, labels, annotations)."""
    if isinstance(rule, RecordingRule):
        out: dict[str, object] = {"record": rule.record, "expr": rule.expr}
        if rule.labels:
            out["labels"] = dict(rule.labels)
        return out
    out = {"alert": rule.alert, "expr": rule.expr}
    if rule.labels:
        out["labels"] = dict(rule.labels)
    if rule.annotations:
        out["annotations"] = dict(rule.annotations)
    return out


def groups_to_dict(groups: Sequence[RuleGroup]) -> dict[str, object]:
    """Rule groups as the body of a Prometheus rules file (also a PrometheusRule ``spec``)."""
    return {"groups": [{"name": g.name, "rules": [rule_to_dict(r) for r in g.rules]} for g in groups]}
