"""Service levels: the SLO values rule generation works from, and parsers for Sloth's spec formats.

Blacktop's own ObservabilityConfig and Sloth's documents (``prometheus/v1``, the Kubernetes
``sloth.slok.dev/v1 PrometheusServiceLevel`` and ``openslo/v1alpha``) all reduce to the same frozen
values here, so one generator (``rules``) serves both and equality with Sloth's output carries over
to blacktop's own SLOs. Parsing collects every problem with its field path and raises one
``InputError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from blacktop.kernel.errors import InputError, Problem

from . import plugins

SPEC_PROMETHEUS_V1: Final = "prometheus/v1"
SPEC_KUBERNETES_V1: Final = "sloth.slok.dev/v1"
SPEC_OPENSLO_V1ALPHA: Final = "openslo/v1alpha"

_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$")
WINDOW_PLACEHOLDER: Final = re.compile(r"\{\{\s*\.window\s*\}\}")


@dataclass(frozen=True, slots=True)
class EventsSLI:
    """Error ratio as bad events over total events; both queries carry ``{{.window}}``."""

    error_query: str
    total_query: str


@dataclass(frozen=True, slots=True)
class RawSLI:
    """A ready-made error-ratio query carrying ``{{.window}}``."""

    error_ratio_query: str


SLI = EventsSLI | RawSLI


@dataclass(frozen=True, slots=True)
class AlertMeta:
    """Labels and annotations of one alert (page or ticket), already merged with the shared ones."""

    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PluginRef:
    """An SLO plugin to run on an SLO's rules, with its config (Sloth's ``chain`` entries)."""

    id: str
    config: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True, slots=True)
class SLO:
    """One service level objective, ready for rule generation.

    ``objective`` is a percentage (99.9). ``labels`` are the merged spec and SLO labels that every
    recording rule carries. ``page_alert``/``ticket_alert`` are None when that alert is disabled.
    """

    service: str
    name: str
    objective: float
    sli: SLI
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    alert_name: str | None = None
    page_alert: AlertMeta | None = None
    ticket_alert: AlertMeta | None = None
    plugins: tuple[PluginRef, ...] = ()
    """SLO plugins in run order (spec-level then SLO-level, stably sorted by priority)."""

    @property
    def id(self) -> str:
        """Sloth's SLO id, ``<service>-<name>``."""
        return f"{self.service}-{self.name}"


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """The SLOs of one document; ``spec`` is the format it came in (``sloth_spec`` label value).

    ``name``/``namespace`` are set for Kubernetes documents, whose output is a PrometheusRule of
    the same name.
    """

    service: str
    slos: tuple[SLO, ...]
    spec: str = SPEC_PROMETHEUS_V1
    name: str | None = None
    namespace: str | None = None


def load_service_levels(
    text: str,
    *,
    source: str | None = None,
    sli_plugins: Mapping[str, plugins.SLIPlugin] = plugins.SLI_PLUGINS,
) -> tuple[ServiceLevel, ...]:
    """Parse every YAML document in ``text`` (Sloth, Kubernetes or OpenSLO form) into service levels."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise InputError(
            f"SLO spec {source or '<input>'} is not valid YAML: {exc}",
            problems=[Problem(path="", message=str(exc), document=source)],
        ) from exc
    levels: list[ServiceLevel] = []
    problems: list[Problem] = []
    for index, document in enumerate(documents):
        try:
            levels.append(parse_service_level(document, sli_plugins=sli_plugins))
        except InputError as exc:
            doc = f"{source or '<input>'}#{index}"
            problems.extend(Problem(path=p.path, message=p.message, document=doc) for p in exc.problems)
    if problems:
        raise InputError(f"SLO spec {source or '<input>'} is invalid", problems=problems)
    return tuple(levels)


def parse_service_level(
    document: Any, *, sli_plugins: Mapping[str, plugins.SLIPlugin] = plugins.SLI_PLUGINS
) -> ServiceLevel:
    """Parse one Sloth, Kubernetes ``PrometheusServiceLevel`` or OpenSLO document.

    ``sli_plugins`` are the SLI plugins specs may use, by id (default: blacktop's built-ins).
    """
    if not isinstance(document, Mapping):
        raise InputError("SLO spec must be a mapping", problems=[Problem(path="", message="not a mapping")])
    if document.get("version") == SPEC_PROMETHEUS_V1:
        return _parse_prometheus_v1(document, prefix="", camel=False, spec=SPEC_PROMETHEUS_V1, sli_plugins=sli_plugins)
    api_version = document.get("apiVersion")
    if api_version == SPEC_KUBERNETES_V1 and document.get("kind") == "PrometheusServiceLevel":
        metadata = _mapping(document.get("metadata"), "metadata", [])
        level = _parse_prometheus_v1(
            _mapping(document.get("spec"), "spec", []),
            prefix="spec.",
            camel=True,
            spec=api_version,
            sli_plugins=sli_plugins,
        )
        return ServiceLevel(
            service=level.service,
            slos=level.slos,
            spec=api_version,
            name=str(metadata.get("name", "")),
            namespace=metadata.get("namespace"),
        )
    if api_version == SPEC_OPENSLO_V1ALPHA and document.get("kind") == "SLO":
        return _parse_openslo(document)
    found = document.get("version", api_version)
    raise InputError(
        f"SLO spec version {found!r} is not supported",
        problems=[
            Problem(
                path="version",
                message=f"unknown spec {found!r}; use version prometheus/v1, "
                "apiVersion sloth.slok.dev/v1 PrometheusServiceLevel or openslo/v1alpha SLO",
            )
        ],
    )


def _key(camel: bool, snake: str) -> str:
    if not camel:
        return snake
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def _mapping(value: Any, path: str, problems: list[Problem]) -> Mapping[str, Any]:
    """``value`` when it is a mapping, ``{}`` when absent; anything else is a problem at ``path``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(Problem(path=path, message="must be a mapping"))
        return {}
    return value


def _list(value: Any, path: str, problems: list[Problem]) -> list[Any]:
    """``value`` when it is a list, ``[]`` when absent; anything else is a problem at ``path``."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem(path=path, message="must be a list"))
        return []
    return value


def _str_map(value: Any, path: str, problems: list[Problem]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(Problem(path=path, message="must be a mapping of strings"))
        return {}
    return {str(k): str(v) for k, v in value.items()}


@dataclass(frozen=True, slots=True)
class _Context:
    spec_plugins: tuple[PluginRef, ...]
    sli_plugins: Mapping[str, plugins.SLIPlugin]


def _parse_prometheus_v1(
    doc: Mapping[str, Any],
    *,
    prefix: str,
    camel: bool,
    spec: str,
    sli_plugins: Mapping[str, plugins.SLIPlugin],
) -> ServiceLevel:
    problems: list[Problem] = []
    service = doc.get("service")
    if not isinstance(service, str) or not service:
        problems.append(Problem(path=prefix + "service", message="is required"))
        service = ""
    labels = _str_map(doc.get("labels"), prefix + "labels", problems)
    _, spec_plugins = _parse_plugins(doc.get(_key(camel, "slo_plugins")), prefix + _key(camel, "slo_plugins"), problems)
    raw_slos = doc.get("slos")
    if not isinstance(raw_slos, Sequence) or not raw_slos:
        problems.append(Problem(path=prefix + "slos", message="must list at least one SLO"))
        raw_slos = []
    slos = []
    names: set[str] = set()
    for i, raw in enumerate(raw_slos):
        path = f"{prefix}slos[{i}]"
        slo = _parse_slo(
            raw,
            path=path,
            service=service,
            labels=labels,
            camel=camel,
            problems=problems,
            context=_Context(spec_plugins=tuple(spec_plugins), sli_plugins=sli_plugins),
        )
        if slo is not None:
            if slo.name in names:
                problems.append(Problem(path=path + ".name", message=f"SLO name {slo.name!r} is repeated"))
            names.add(slo.name)
            slos.append(slo)
    if problems:
        raise InputError(f"SLO spec for service {service!r} is invalid", problems=problems)
    return ServiceLevel(service=service, slos=tuple(slos), spec=spec)


def _parse_plugins(value: Any, path: str, problems: list[Problem]) -> tuple[bool, list[PluginRef]]:
    """The ``chain`` of a plugins block, and whether it overrides the spec-level chain."""
    block = _mapping(value, path, problems)
    chain = block.get("chain") or []
    if not isinstance(chain, list):
        problems.append(Problem(path=path + ".chain", message="must be a list"))
        chain = []
    refs = []
    for i, raw_item in enumerate(chain):
        item = _mapping(raw_item, f"{path}.chain[{i}]", problems)
        plugin_id = item.get("id")
        priority = item.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int):
            problems.append(Problem(path=f"{path}.chain[{i}].priority", message="must be an integer"))
            continue
        if plugin_id not in plugins.SUPPORTED_SLO_PLUGINS:
            problems.append(
                Problem(
                    path=f"{path}.chain[{i}].id",
                    message=f"SLO plugin {plugin_id!r} is not supported by blacktop; "
                    f"supported: {', '.join(sorted(plugins.SUPPORTED_SLO_PLUGINS))}",
                )
            )
            continue
        config = _mapping(item.get("config"), f"{path}.chain[{i}].config", problems)
        refs.append(PluginRef(id=str(plugin_id), config=dict(config), priority=priority))
    return bool(block.get("overridePrevious")), refs


def _parse_slo(
    raw: Any,
    *,
    path: str,
    service: str,
    labels: Mapping[str, str],
    camel: bool,
    problems: list[Problem],
    context: _Context,
) -> SLO | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem(path=path, message="must be a mapping"))
        return None
    before = len(problems)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        problems.append(Problem(path=path + ".name", message=f"must match {_NAME_RE.pattern}"))
        name = ""
    objective = raw.get("objective")
    if isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 < objective <= 100:
        problems.append(Problem(path=path + ".objective", message="must be a percentage in (0, 100]"))
        objective = 100.0
    override, own_plugins = _parse_plugins(raw.get("plugins"), path + ".plugins", problems)
    chain = sorted([*(() if override else context.spec_plugins), *own_plugins], key=lambda p: p.priority)
    merged = {**labels, **_str_map(raw.get("labels"), path + ".labels", problems)}
    sli = _parse_sli(raw.get("sli"), path=path + ".sli", camel=camel, problems=problems, labels=merged, context=context)
    if sli is not None and not isinstance(sli, EventsSLI):
        for ref in chain:
            if ref.id == plugins.SLO_PLUGIN_DENOMINATOR_CORRECTED:
                problems.append(Problem(path=path + ".sli", message=f"SLO plugin {ref.id} needs an events SLI"))
    alert_name, page, ticket = _parse_alerting(raw.get("alerting"), path + ".alerting", camel, problems)
    if len(problems) > before or sli is None:
        return None
    return SLO(
        service=service,
        name=name,
        objective=float(objective),
        sli=sli,
        description=str(raw.get("description", "")),
        labels=merged,
        alert_name=alert_name,
        page_alert=page,
        ticket_alert=ticket,
        plugins=tuple(chain),
    )


def _parse_sli(
    raw: Any,
    *,
    path: str,
    camel: bool,
    problems: list[Problem],
    labels: Mapping[str, str],
    context: _Context,
) -> SLI | None:
    if not isinstance(raw, Mapping) or len([k for k in ("events", "raw", "plugin") if raw.get(k) is not None]) != 1:
        problems.append(Problem(path=path, message="must set exactly one of events, raw or plugin"))
        return None
    if raw.get("plugin") is not None:
        plugin_block = _mapping(raw["plugin"], path + ".plugin", problems)
        plugin_id = plugin_block.get("id")
        plugin = context.sli_plugins.get(str(plugin_id))
        if plugin is None:
            problems.append(
                Problem(
                    path=path + ".plugin.id",
                    message=f"SLI plugin {plugin_id!r} is not supported by blacktop; "
                    f"supported: {', '.join(sorted(context.sli_plugins)) or 'none'}",
                )
            )
            return None
        options = _str_map(plugin_block.get("options"), path + ".plugin.options", problems)
        try:
            return RawSLI(error_ratio_query=plugin(labels, options))
        except ValueError as exc:
            problems.append(Problem(path=path + ".plugin", message=f"SLI plugin {plugin_id!r}: {exc}"))
            return None
    if raw.get("raw") is not None:
        key = _key(camel, "error_ratio_query")
        query = _mapping(raw["raw"], path + ".raw", problems).get(key)
        if not _has_window(query):
            problems.append(Problem(path=f"{path}.raw.{key}", message="must contain {{.window}}"))
            return None
        return RawSLI(error_ratio_query=str(query))
    events = _mapping(raw["events"], path + ".events", problems)
    error_key, total_key = _key(camel, "error_query"), _key(camel, "total_query")
    error_query, total_query = events.get(error_key), events.get(total_key)
    ok = True
    for key, query in ((error_key, error_query), (total_key, total_query)):
        if not _has_window(query):
            problems.append(Problem(path=f"{path}.events.{key}", message="must contain {{.window}}"))
            ok = False
    if ok and error_query == total_query:
        problems.append(Problem(path=f"{path}.events", message="error and total queries must differ"))
        ok = False
    return EventsSLI(error_query=str(error_query), total_query=str(total_query)) if ok else None


def _has_window(query: Any) -> bool:
    return isinstance(query, str) and WINDOW_PLACEHOLDER.search(query) is not None


def _parse_alerting(
    raw: Any, path: str, camel: bool, problems: list[Problem]
) -> tuple[str | None, AlertMeta | None, AlertMeta | None]:
    raw = _mapping(raw, path, problems)
    labels = _str_map(raw.get("labels"), path + ".labels", problems)
    annotations = _str_map(raw.get("annotations"), path + ".annotations", problems)
    alerts: list[AlertMeta | None] = []
    for kind in ("page_alert", "ticket_alert"):
        key = _key(camel, kind)
        sub = _mapping(raw.get(key), f"{path}.{key}", problems)
        if sub.get("disable"):
            alerts.append(None)
            continue
        alerts.append(
            AlertMeta(
                labels={**labels, **_str_map(sub.get("labels"), f"{path}.{key}.labels", problems)},
                annotations={
                    **annotations,
                    **_str_map(sub.get("annotations"), f"{path}.{key}.annotations", problems),
                },
            )
        )
    name = raw.get("name")
    if (alerts[0] or alerts[1]) and not name:
        problems.append(Problem(path=path + ".name", message="is required unless both alerts are disabled"))
    return (str(name) if name else None), alerts[0], alerts[1]


def _parse_openslo(doc: Mapping[str, Any]) -> ServiceLevel:
    problems: list[Problem] = []
    metadata = _mapping(doc.get("metadata"), "metadata", problems)
    spec = _mapping(doc.get("spec"), "spec", problems)
    name = str(metadata.get("name", ""))
    service = str(spec.get("service", ""))
    if not service:
        problems.append(Problem(path="spec.service", message="is required"))
    for i, window in enumerate(_list(spec.get("timeWindows"), "spec.timeWindows", problems)):
        window = _mapping(window, f"spec.timeWindows[{i}]", problems)
        if (window.get("count"), window.get("unit")) != (30, "Day"):
            problems.append(Problem(path=f"spec.timeWindows[{i}]", message="only the 30 Day window is supported"))
    slos = []
    for i, raw_objective in enumerate(_list(spec.get("objectives"), "spec.objectives", problems)):
        path = f"spec.objectives[{i}]"
        objective = _mapping(raw_objective, path, problems)
        ratio = _mapping(objective.get("ratioMetrics"), path + ".ratioMetrics", problems)
        good, total = (
            _mapping(ratio.get(k), f"{path}.ratioMetrics.{k}", problems).get("query") for k in ("good", "total")
        )
        target = objective.get("target")
        if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target <= 1:
            problems.append(Problem(path=path + ".target", message="must be a ratio in (0, 1]"))
            continue
        if not (_has_window(good) and _has_window(total)):
            problems.append(Problem(path=path + ".ratioMetrics", message="good and total need {{.window}}"))
            continue
        query = f"\n  1 - (\n    (\n      {good}\n    )\n    /\n    (\n      {total}\n    )\n  )\n"
        slos.append(
            SLO(
                service=service,
                name=f"{name}-{i}",
                objective=float(target) * 100,
                sli=RawSLI(error_ratio_query=query),
                description=str(spec.get("description", "")),
            )
        )
    if problems:
        raise InputError(f"OpenSLO spec {name!r} is invalid", problems=problems)
    return ServiceLevel(service=service, slos=tuple(slos), spec=SPEC_OPENSLO_V1ALPHA)
