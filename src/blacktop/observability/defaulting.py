"""Zero-config: an ObservabilityConfig for every catalog service that has none, from its catalog entry.

A developer registers a Component of type ``service`` in the catalog and writes nothing else; this
module derives its ObservabilityConfig from what the catalog already knows:

* **Alert channels** come from the owning Group's annotations (``slack.com/channel``,
  ``pagerduty.com/service-id``); the Component's own annotations override its team's.
* **The availability SLO** comes from the service's tier: ``observability.blacktop.dev/tier``
  (annotation) or the ``tier`` label, else its ``spec.lifecycle`` mapped to a tier (production →
  standard, experimental → internal). Tiers map to objectives (critical 99.99%, standard 99.9%,
  internal 99.5%); ``CatalogDefaults`` makes every mapping configurable.
* ``grafana/dashboard-selector`` is carried onto the config, whose dashboard then carries the tags
  the selector asks for, so Backstage's Grafana card finds the generated dashboard;
  ``prometheus.io/port`` and ``prometheus.io/path`` set the scrape endpoint.

``plan_catalog_sync`` compares those desired configs with the configs the platform holds: configs
this sync manages (label ``observability.blacktop.dev/managed-by: catalog``) are created, updated
and deleted to match; a hand-written config for the same service always wins. Everything here is
pure: entity documents and config documents in, documents and problems out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from blacktop.kernel.errors import InputError, Problem

from . import model

MANAGED_BY_LABEL: Final = "observability.blacktop.dev/managed-by"
MANAGED_BY_CATALOG: Final = "catalog"
ENTITY_REF_ANNOTATION: Final = "observability.blacktop.dev/entity-ref"
TIER_ANNOTATION: Final = "observability.blacktop.dev/tier"
AVAILABILITY_ANNOTATION: Final = "observability.blacktop.dev/availability"
LATENCY_ANNOTATION: Final = "observability.blacktop.dev/latency-p99-ms"
TEMPLATE_ANNOTATION: Final = "observability.blacktop.dev/dashboard-template"
SLACK_ANNOTATION: Final = "slack.com/channel"
PAGERDUTY_ANNOTATION: Final = "pagerduty.com/service-id"
DASHBOARD_SELECTOR_ANNOTATION: Final = "grafana/dashboard-selector"
PROMETHEUS_PORT_ANNOTATION: Final = "prometheus.io/port"
PROMETHEUS_PATH_ANNOTATION: Final = "prometheus.io/path"
CARRIED_ANNOTATIONS: Final = (DASHBOARD_SELECTOR_ANNOTATION,)
"""Entity annotations copied onto the generated config, where the renderers read them."""


@dataclass(frozen=True, slots=True)
class CatalogDefaults:
    """How catalog metadata maps to observability settings (the platform team may change every part)."""

    tiers: Mapping[str, float] = field(
        default_factory=lambda: {"critical": 0.9999, "standard": 0.999, "internal": 0.995}
    )
    """Availability objective per tier."""
    lifecycle_tiers: Mapping[str, str] = field(
        default_factory=lambda: {"production": "standard", "experimental": "internal", "development": "internal"}
    )
    """The tier of a service that names none, by ``spec.lifecycle``."""
    default_tier: str = "standard"
    """The tier when neither an annotation, a label nor the lifecycle says."""
    namespace: str = "owner"
    """Where generated configs live: ``owner`` (the owning group's name), ``entity`` (the catalog
    namespace) or a fixed namespace name."""


@dataclass(frozen=True, slots=True)
class DesiredConfigs:
    """The configs the catalog implies, and the problems found deriving them (by entity ref)."""

    configs: tuple[dict[str, Any], ...]
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What the catalog sync does: configs to apply, managed configs to delete, services skipped."""

    apply: tuple[dict[str, Any], ...] = ()
    delete: tuple[tuple[str, str], ...] = ()
    """``(namespace, name)`` of managed configs nothing in the catalog asks for any more."""
    skipped: tuple[str, ...] = ()
    """Services left alone because a hand-written ObservabilityConfig covers them."""
    unchanged: int = 0


def entity_ref(entity: Mapping[str, Any]) -> str:
    """``kind:namespace/name`` of an entity document, lower-cased as the catalog compares refs."""
    meta = entity.get("metadata") or {}
    kind = str(entity.get("kind") or "").lower()
    return f"{kind}:{str(meta.get('namespace') or 'default').lower()}/{str(meta.get('name') or '').lower()}"


def parse_entity_ref(text: str, *, default_kind: str, default_namespace: str) -> str:
    """A full lower-case ref from ``[kind:][namespace/]name``."""
    kind, colon, rest = text.partition(":")
    if not colon:
        kind, rest = default_kind, text
    namespace, slash, name = rest.rpartition("/")
    if not slash:
        namespace = default_namespace
    return f"{kind.lower()}:{namespace.lower()}/{name.lower()}"


def owner_ref(component: Mapping[str, Any]) -> str | None:
    """The owner's full ref: the ``ownedBy`` relation when stitched, else ``spec.owner``."""
    for relation in component.get("relations") or []:
        if isinstance(relation, Mapping) and relation.get("type") == "ownedBy" and relation.get("targetRef"):
            return str(relation["targetRef"]).lower()
    owner = (component.get("spec") or {}).get("owner")
    if not isinstance(owner, str) or not owner:
        return None
    namespace = str((component.get("metadata") or {}).get("namespace") or "default")
    return parse_entity_ref(owner, default_kind="group", default_namespace=namespace)


def dns_name(text: str) -> str:
    """``text`` as a DNS label (lower case, ``-`` for anything else, at most 63 characters)."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")[:63].strip("-")


def is_service(entity: Mapping[str, Any]) -> bool:
    """Whether an entity is a catalog Component of type service."""
    spec = entity.get("spec") or {}
    return str(entity.get("kind") or "").lower() == "component" and str(spec.get("type") or "").lower() == "service"


def compute_catalog_configs(
    entities: Sequence[Mapping[str, Any]], *, defaults: CatalogDefaults = CatalogDefaults()
) -> DesiredConfigs:
    """One ObservabilityConfig document per catalog service, derived from it and its owning group."""
    groups = {entity_ref(e): e for e in entities if str(e.get("kind") or "").lower() == "group"}
    configs: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for component in sorted((e for e in entities if is_service(e)), key=entity_ref):
        ref = entity_ref(component)
        found: list[Problem] = []
        document = _config_for(component, groups, defaults, found)
        key = (document["metadata"]["namespace"], document["metadata"]["name"])
        if key in seen:
            found.append(Problem("metadata.name", f"maps to the same config {key[0]}/{key[1]} as {seen[key]}"))
        elif document["spec"]["service"]:
            try:
                model.parse_observability_config(document)
            except InputError as exc:
                found.extend(exc.problems)
            else:
                seen[key] = ref
                configs.append(document)
        problems.extend(Problem(p.path, p.message, document=ref) for p in found)
    return DesiredConfigs(configs=tuple(configs), problems=tuple(problems))


def _annotations(entity: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return ((entity or {}).get("metadata") or {}).get("annotations") or {}


def _config_for(
    component: Mapping[str, Any],
    groups: Mapping[str, Mapping[str, Any]],
    defaults: CatalogDefaults,
    problems: list[Problem],
) -> dict[str, Any]:
    meta = component.get("metadata") or {}
    spec = component.get("spec") or {}
    annotations = _annotations(component)
    owner = owner_ref(component)
    group = groups.get(owner or "")
    owner_name = owner.rpartition("/")[2] if owner else None
    service = dns_name(str(meta.get("name") or ""))
    if not service:
        problems.append(Problem("metadata.name", "does not give a usable service name (letters, digits and '-')"))
    tier = _tier(meta, spec, defaults, problems)
    slo: dict[str, Any] = {"availability": _availability(annotations, defaults.tiers[tier], problems)}
    latency = _latency(annotations, problems)
    if latency is not None:
        slo["latencyP99Ms"] = latency
    labels = {"tier": tier}
    if owner_name:
        labels["team"] = dns_name(owner_name) or owner_name
    config_spec: dict[str, Any] = {
        "service": service,
        "metrics": {"additionalLabels": labels, **_metrics(annotations, problems)},
        "alerts": {"slo": slo, "channels": _channels(annotations, _annotations(group), problems)},
        "dashboard": {"autoGenerate": True, "folder": owner_name or service},
    }
    if annotations.get(TEMPLATE_ANNOTATION):
        config_spec["dashboard"]["template"] = str(annotations[TEMPLATE_ANNOTATION])
    carried = {k: str(annotations[k]) for k in CARRIED_ANNOTATIONS if annotations.get(k)}
    return {
        "apiVersion": model.API_VERSION,
        "kind": model.KIND,
        "metadata": {
            "name": service or "invalid",
            "namespace": _namespace(meta, owner_name, defaults),
            "labels": {MANAGED_BY_LABEL: MANAGED_BY_CATALOG},
            "annotations": {ENTITY_REF_ANNOTATION: entity_ref(component), **carried},
        },
        "spec": config_spec,
    }


def _namespace(meta: Mapping[str, Any], owner_name: str | None, defaults: CatalogDefaults) -> str:
    if defaults.namespace == "owner" and owner_name:
        return dns_name(owner_name) or "default"
    if defaults.namespace in ("owner", "entity"):
        return dns_name(str(meta.get("namespace") or "default")) or "default"
    return defaults.namespace


def _tier(meta: Mapping[str, Any], spec: Mapping[str, Any], defaults: CatalogDefaults, problems: list[Problem]) -> str:
    annotations = meta.get("annotations") or {}
    labels = meta.get("labels") or {}
    for path, value in (
        (f"metadata.annotations.{TIER_ANNOTATION}", annotations.get(TIER_ANNOTATION)),
        ("metadata.labels.tier", labels.get("tier")),
    ):
        if value:
            if str(value).lower() in defaults.tiers:
                return str(value).lower()
            known = ", ".join(sorted(defaults.tiers))
            problems.append(Problem(path, f"names an unknown tier {value!r}; use one of {known}"))
    lifecycle = str(spec.get("lifecycle") or "").lower()
    return defaults.lifecycle_tiers.get(lifecycle, defaults.default_tier)


def _availability(annotations: Mapping[str, Any], default: float, problems: list[Problem]) -> float:
    raw = annotations.get(AVAILABILITY_ANNOTATION)
    if raw is None:
        return default
    try:
        value = float(str(raw).rstrip("%")) / (100 if str(raw).endswith("%") else 1)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        problems.append(
            Problem(f"metadata.annotations.{AVAILABILITY_ANNOTATION}", f"{raw!r} is not a ratio like 0.999 or 99.9%")
        )
        return default
    return value


def _latency(annotations: Mapping[str, Any], problems: list[Problem]) -> int | None:
    raw = annotations.get(LATENCY_ANNOTATION)
    if raw is None:
        return None
    if not _is_number(str(raw)) or int(str(raw)) <= 0:
        problems.append(Problem(f"metadata.annotations.{LATENCY_ANNOTATION}", f"{raw!r} is not a whole number of ms"))
        return None
    return int(str(raw))


def _metrics(annotations: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    port = annotations.get(PROMETHEUS_PORT_ANNOTATION)
    if port is not None:
        if _is_number(str(port)) and 0 < int(str(port)) < 65536:
            out["port"] = int(str(port))
        else:
            problems.append(Problem(f"metadata.annotations.{PROMETHEUS_PORT_ANNOTATION}", f"{port!r} is not a port"))
    path = annotations.get(PROMETHEUS_PATH_ANNOTATION)
    if path:
        out["path"] = str(path) if str(path).startswith("/") else f"/{path}"
    return out


def _channels(component: Mapping[str, Any], group: Mapping[str, Any], problems: list[Problem]) -> list[str]:
    channels: list[str] = []
    slack = component.get(SLACK_ANNOTATION) or group.get(SLACK_ANNOTATION)
    if slack:
        name = "#" + str(slack).strip().lstrip("#").lower()
        if re.fullmatch(model.CHANNEL_PATTERN, name):
            channels.append(name)
        else:
            source = "component" if component.get(SLACK_ANNOTATION) else "owner group"
            problems.append(
                Problem(f"metadata.annotations.{SLACK_ANNOTATION}", f"{source}: {slack!r} is not a channel")
            )
    pagerduty = component.get(PAGERDUTY_ANNOTATION) or group.get(PAGERDUTY_ANNOTATION)
    if pagerduty:
        channel = f"pagerduty:{str(pagerduty).strip()}"
        if re.fullmatch(model.CHANNEL_PATTERN, channel):
            channels.append(channel)
        else:
            problems.append(
                Problem(f"metadata.annotations.{PAGERDUTY_ANNOTATION}", f"{pagerduty!r} is not a PagerDuty service id")
            )
    return channels


def is_managed(config: Mapping[str, Any]) -> bool:
    """Whether the catalog sync manages a config (and may change or delete it)."""
    labels = (config.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY_CATALOG


def _normal(document: Mapping[str, Any]) -> tuple[Any, ...]:
    """What the sync compares: the spec with defaults filled, the labels and the annotations it sets."""
    meta = document.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    ours = {k: v for k, v in annotations.items() if k == ENTITY_REF_ANNOTATION or k in CARRIED_ANNOTATIONS}
    try:
        spec = model.ObservabilityConfigSpec.model_validate(document.get("spec") or {}).model_dump(mode="json")
    except ValueError:
        spec = {"invalid": True}
    return (spec, meta.get("labels") or {}, ours)


def plan_catalog_sync(desired: Sequence[Mapping[str, Any]], existing: Sequence[Mapping[str, Any]]) -> SyncPlan:
    """The writes that make the managed configs equal ``desired``; hand-written configs win."""
    hand_written = {str((c.get("spec") or {}).get("service")) for c in existing if not is_managed(c)}
    managed: dict[tuple[str, str], Mapping[str, Any]] = {}
    for config in existing:
        if is_managed(config):
            meta = config.get("metadata") or {}
            managed[(str(meta.get("namespace") or "default"), str(meta.get("name")))] = config
    apply: list[dict[str, Any]] = []
    skipped: list[str] = []
    wanted: set[tuple[str, str]] = set()
    unchanged = 0
    for document in desired:
        service = str(document["spec"]["service"])
        if service in hand_written:
            skipped.append(service)
            continue
        key = (document["metadata"]["namespace"], document["metadata"]["name"])
        wanted.add(key)
        current = managed.get(key)
        if current is not None and _normal(current) == _normal(document):
            unchanged += 1
            continue
        apply.append(dict(document))
    gone = sorted(
        key
        for key, config in managed.items()
        if key not in wanted and not (config.get("metadata") or {}).get("deletionTimestamp")
    )
    return SyncPlan(apply=tuple(apply), delete=tuple(gone), skipped=tuple(sorted(skipped)), unchanged=unchanged)


def _is_number(text: str) -> bool:
    """Whether ``text`` is a plain ASCII decimal number (``"¹".isdigit()`` is true, but ``int("¹")`` fails)."""
    return text.isascii() and text.isdigit()


def _config_key(config: Mapping[str, Any]) -> tuple[str, str]:
    meta = config.get("metadata") or {}
    return (str(meta.get("namespace") or "default"), str(meta.get("name")))


def _entity_of(config: Mapping[str, Any]) -> str | None:
    value = ((config.get("metadata") or {}).get("annotations") or {}).get(ENTITY_REF_ANNOTATION)
    return str(value) if value else None


def plan_catalog_changes(
    desired: Sequence[Mapping[str, Any]], existing: Sequence[Mapping[str, Any]], *, refs: Collection[str]
) -> tuple[SyncPlan, tuple[Problem, ...]]:
    """``plan_catalog_sync`` for the configs of the entities ``refs`` only; every other config stays.

    ``desired`` holds the configs of those entities that still want one. A managed config of another
    entity keeps its name: a desired config that would take it is reported, not applied.
    """
    related = [c for c in existing if not is_managed(c) or _entity_of(c) in refs]
    taken = {_config_key(c): _entity_of(c) for c in existing if is_managed(c) and _entity_of(c) not in refs}
    kept: list[Mapping[str, Any]] = []
    problems: list[Problem] = []
    for document in desired:
        key = _config_key(document)
        if key in taken:
            message = f"maps to the same config {key[0]}/{key[1]} as {taken[key]}"
            problems.append(Problem("metadata.name", message, document=_entity_of(document)))
            continue
        kept.append(document)
    return plan_catalog_sync(kept, related), tuple(problems)
