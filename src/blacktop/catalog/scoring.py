"""Completeness scorecards and the dark-matter report, as pure functions over catalog data.

A healthy catalog (the design quotes 95%) has an owner that exists, a description, a lifecycle, a
system, docs, on-call and dashboards for every service. Checks are data (``CheckSpec``), so operators
configure them without code; ``parse_checks`` reads them from settings. Scores are computed per entity
(with the failed checks and why), then rolled up for the organisation and per owning team.

Dark matter is what the catalog points at but does not know: entities without a valid owner, owners
missing from the catalog, relations whose target does not exist, and orphans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from blacktop.kernel.errors import InputError, Problem

from . import errors, model, refs

OWNER_KINDS: Final = frozenset({"group", "user"})
SCORED_KINDS: Final = frozenset({"component", "api", "resource", "system", "domain"})
"""Kinds that get a scorecard by default (people, groups and locations do not)."""


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One completeness check.

    ``type`` is one of ``owner-exists``, ``field`` (``path`` non-empty), ``annotation`` (any of
    ``keys`` present and non-empty), ``links`` (at least one link) or ``api-definition``.
    ``kinds`` limits it to some kinds (lower case); None means every scored kind.
    """

    id: str
    description: str
    type: str
    kinds: frozenset[str] | None = None
    path: str = ""
    keys: tuple[str, ...] = ()


CHECK_TYPES: Final = frozenset({"owner-exists", "field", "annotation", "links", "api-definition"})

DEFAULT_CHECKS: Final[tuple[CheckSpec, ...]] = (
    CheckSpec("owner", "spec.owner names a Group or User in the catalog", "owner-exists"),
    CheckSpec("description", "metadata.description is set", "field", path="metadata.description"),
    CheckSpec("lifecycle", "spec.lifecycle is set", "field", frozenset({"component", "api"}), path="spec.lifecycle"),
    CheckSpec("system", "spec.system is set", "field", frozenset({"component", "api", "resource"}), path="spec.system"),
    CheckSpec(
        "techdocs", "has a backstage.io/techdocs-ref annotation", "annotation",
        frozenset({"component", "api", "system"}), keys=("backstage.io/techdocs-ref",),
    ),
    CheckSpec(
        "on-call", "names an on-call rotation (PagerDuty or Opsgenie annotation)", "annotation",
        frozenset({"component"}), keys=("pagerduty.com/service-id", "pagerduty.com/integration-key",
                                        "opsgenie.com/component-selector"),
    ),
    CheckSpec(
        "dashboard", "names a dashboard (Grafana annotation)", "annotation", frozenset({"component"}),
        keys=("grafana/dashboard-selector", "grafana/overview-dashboard"),
    ),
    CheckSpec("api-definition", "an API has a definition (or remotes)", "api-definition", frozenset({"api"})),
    CheckSpec("links", "has at least one link", "links", frozenset({"component", "system"})),
)  # fmt: skip
"""The rule set used when none is configured."""


def parse_checks(config: Sequence[Mapping[str, Any]]) -> tuple[CheckSpec, ...]:
    """Read checks from configuration dicts, raising ``InputError`` with every problem's path."""
    problems: list[Problem] = []
    checks: list[CheckSpec] = []
    for i, item in enumerate(config):
        where = f"checks[{i}]"
        check_type, check_id = item.get("type"), item.get("id")
        if not isinstance(check_id, str) or not check_id:
            problems.append(Problem(path=f"{where}.id", message="must be a non-empty string"))
        if check_type not in CHECK_TYPES:
            problems.append(Problem(path=f"{where}.type", message=f"must be one of {', '.join(sorted(CHECK_TYPES))}"))
        if check_type == "field" and not isinstance(item.get("path"), str):
            problems.append(Problem(path=f"{where}.path", message="a field check needs a dotted path"))
        if check_type == "annotation" and not item.get("keys"):
            problems.append(Problem(path=f"{where}.keys", message="an annotation check needs at least one key"))
        kinds = item.get("kinds")
        checks.append(
            CheckSpec(
                id=str(check_id), description=str(item.get("description", check_id)), type=str(check_type),
                kinds=frozenset(k.lower() for k in kinds) if kinds else None,
                path=str(item.get("path", "")), keys=tuple(item.get("keys", ())),
            )
        )  # fmt: skip
    if problems:
        raise InputError(f"scorecard configuration has {len(problems)} problem(s)", problems=problems)
    return tuple(checks)


@dataclass(frozen=True, slots=True)
class FailedCheck:
    """A check an entity fails, and why."""

    id: str
    message: str


@dataclass(frozen=True, slots=True)
class EntityScore:
    """One entity's scorecard."""

    ref: model.EntityRef
    owner: model.EntityRef | None
    passed: tuple[str, ...]
    failed: tuple[FailedCheck, ...]

    @property
    def applicable(self) -> int:
        """How many checks applied."""
        return len(self.passed) + len(self.failed)

    @property
    def percent(self) -> float:
        """Passed checks as a percentage of applicable ones (100 when none apply)."""
        return 100.0 if self.applicable == 0 else round(100.0 * len(self.passed) / self.applicable, 1)


@dataclass(frozen=True, slots=True)
class Completeness:
    """Completeness of a set of entities: checks passed over checks applicable, and full entities."""

    entities: int
    complete_entities: int
    checks_passed: int
    checks_applicable: int

    @property
    def percent(self) -> float:
        """Passed checks as a percentage (100 when nothing applies)."""
        if self.checks_applicable == 0:
            return 100.0
        return round(100.0 * self.checks_passed / self.checks_applicable, 1)


def owner_of(entity: model.Entity) -> model.EntityRef | None:
    """The ref ``spec.owner`` names (default kind Group, entity's namespace), or None."""
    owner = entity.spec.get("owner")
    if not isinstance(owner, str) or not owner:
        return None
    try:
        return refs.parse_spec_ref(owner, field="owner", referrer=entity.ref)
    except errors.InvalidEntityRef:
        return None


def score_entity(
    entity: model.Entity,
    catalog: Mapping[model.EntityRef, model.Entity],
    *,
    checks: Sequence[CheckSpec] = DEFAULT_CHECKS,
) -> EntityScore:
    """Run every applicable check on ``entity``; ``catalog`` is what exists (for owner checks)."""
    passed: list[str] = []
    failed: list[FailedCheck] = []
    kind = entity.kind.lower()
    for check in checks:
        if check.kinds is not None and kind not in check.kinds:
            continue
        message = _failure(check, entity, catalog)
        if message is None:
            passed.append(check.id)
        else:
            failed.append(FailedCheck(check.id, message))
    return EntityScore(entity.ref, owner_of(entity), tuple(passed), tuple(failed))


def _failure(check: CheckSpec, entity: model.Entity, catalog: Mapping[model.EntityRef, model.Entity]) -> str | None:
    if check.type == "owner-exists":
        owner = owner_of(entity)
        if owner is None:
            return "spec.owner is missing or not a valid ref"
        if owner not in catalog or owner.kind.lower() not in OWNER_KINDS:
            return f"owner {owner.key} is not a Group or User in the catalog"
        return None
    if check.type == "field":
        return None if _present(_lookup(entity.to_dict(), check.path)) else f"{check.path} is not set"
    if check.type == "annotation":
        if any(_present(entity.annotations.get(key)) for key in check.keys):
            return None
        return f"none of the annotations {', '.join(check.keys)} is set"
    if check.type == "links":
        return None if _present(entity.metadata.get("links")) else "metadata.links is empty"
    if check.type == "api-definition":
        ok = _present(entity.spec.get("definition")) or _present(entity.spec.get("remotes"))
        return None if ok else "spec.definition is empty"
    return f"unknown check type {check.type!r}"


def _lookup(document: Mapping[str, Any], path: str) -> Any:
    current: Any = document
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def score_catalog(
    entities: Iterable[model.Entity],
    *,
    checks: Sequence[CheckSpec] = DEFAULT_CHECKS,
    scored_kinds: frozenset[str] = SCORED_KINDS,
) -> list[EntityScore]:
    """Scorecards for every entity of a scored kind, sorted by ref."""
    catalog = {e.ref: e for e in entities}
    return [
        score_entity(e, catalog, checks=checks) for ref, e in sorted(catalog.items()) if e.kind.lower() in scored_kinds
    ]


def completeness(scores: Iterable[EntityScore]) -> Completeness:
    """Roll scorecards up into one completeness figure."""
    items = list(scores)
    return Completeness(
        entities=len(items),
        complete_entities=sum(1 for s in items if not s.failed),
        checks_passed=sum(len(s.passed) for s in items),
        checks_applicable=sum(s.applicable for s in items),
    )


def completeness_by_team(scores: Iterable[EntityScore]) -> dict[str, Completeness]:
    """Completeness per owner ref (``group:default/team-a``); ``""`` collects entities without owner."""
    groups: dict[str, list[EntityScore]] = defaultdict(list)
    for score in scores:
        groups[score.owner.key if score.owner is not None else ""].append(score)
    return {team: completeness(items) for team, items in sorted(groups.items())}


@dataclass(frozen=True, slots=True)
class DanglingRelation:
    """A relation from an existing entity to one the catalog does not hold."""

    source: model.EntityRef
    type: str
    target: model.EntityRef


@dataclass(frozen=True, slots=True)
class DarkMatter:
    """What the catalog references but does not know."""

    without_valid_owner: tuple[model.EntityRef, ...]
    missing_owners: Mapping[model.EntityRef, tuple[model.EntityRef, ...]]
    dangling_relations: tuple[DanglingRelation, ...]
    orphans: tuple[model.EntityRef, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        """Whether the catalog has no dark matter."""
        return not (self.without_valid_owner or self.missing_owners or self.dangling_relations or self.orphans)


def dark_matter_report(
    entities: Iterable[model.Entity],
    relation_rows: Iterable[model.Relation],
    *,
    orphans: Iterable[model.EntityRef] = (),
    scored_kinds: frozenset[str] = SCORED_KINDS,
) -> DarkMatter:
    """Entities without a valid owner, owners missing from the catalog, dangling relations, orphans."""
    catalog = {e.ref: e for e in entities}
    without_owner: list[model.EntityRef] = []
    missing: dict[model.EntityRef, list[model.EntityRef]] = defaultdict(list)
    for ref, entity in sorted(catalog.items()):
        if entity.kind.lower() not in scored_kinds:
            continue
        owner = owner_of(entity)
        if owner is None or owner not in catalog or owner.kind.lower() not in OWNER_KINDS:
            without_owner.append(ref)
        if owner is not None and owner not in catalog:
            missing[owner].append(ref)
    dangling = sorted(
        {DanglingRelation(r.source, r.type, r.target) for r in relation_rows
         if r.source in catalog and r.target not in catalog},
        key=lambda d: (d.source.key, d.type, d.target.key),
    )  # fmt: skip
    return DarkMatter(
        without_valid_owner=tuple(without_owner),
        missing_owners={k: tuple(v) for k, v in sorted(missing.items())},
        dangling_relations=tuple(dangling),
        orphans=tuple(sorted(set(orphans))),
    )
