"""TeamNamespace values: the parsed, checked form the renderer and the planner read.

Parsing happens after the schema applied its defaults, so missing optional sections are already
empty; ``parse_team_namespace`` adds the semantic checks of ``validation`` and raises one
``InputError`` listing every problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from blacktop.kernel.errors import InputError

from . import kind, validation

ROLE_SECTIONS: Final = ("admins", "developers", "viewers")
"""The ``spec.rbac`` lists, in the order bindings are rendered."""


@dataclass(frozen=True, slots=True)
class Subject:
    """One group or user a role is granted to."""

    kind: str
    """``Group`` or ``User``."""
    name: str


@dataclass(frozen=True, slots=True)
class NetworkRule:
    """One ``spec.networkPolicies`` item: the peers allowed in and out (raw NetworkPolicy peers)."""

    index: int
    ingress_from: tuple[Mapping[str, Any], ...] = ()
    egress_to: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Monitoring:
    """What monitoring the team asked for."""

    prometheus: bool = True
    cost_allocation: bool = True
    team_dashboard: bool = False


@dataclass(frozen=True, slots=True)
class TeamNamespace:
    """A checked TeamNamespace; ``name`` is also the platform and the Kubernetes namespace."""

    name: str
    uid: str
    generation: int
    team: str
    environment: str
    tier: str
    quotas: Mapping[str, str] = field(default_factory=dict)
    limits: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """``defaultRequest``/``defaultLimit``/``maxLimit`` → resource → quantity."""
    network: tuple[NetworkRule, ...] = ()
    rbac: Mapping[str, tuple[Subject, ...]] = field(default_factory=dict)
    """``admins``/``developers``/``viewers`` → subjects (only non-empty lists)."""
    monitoring: Monitoring = Monitoring()

    @property
    def namespace(self) -> str:
        """The platform namespace and the Kubernetes namespace: the object's name."""
        return self.name


def _text(value: object) -> str:
    return str(value)


def parse_team_namespace(obj: Mapping[str, Any]) -> TeamNamespace:
    """The checked value of a schema-valid TeamNamespace; ``InputError`` with every semantic problem."""
    meta = obj.get("metadata") or {}
    problems = validation.problems_in(obj)
    if problems:
        raise InputError(
            f"{kind.KIND} {meta.get('name')} is invalid: {len(problems)} problem(s); fix them and apply again",
            problems=problems,
        )
    spec = obj.get("spec") or {}
    limits = spec.get("limitRanges") or {}
    monitoring = spec.get("monitoring") or {}
    return TeamNamespace(
        name=str(meta.get("name")),
        uid=str(meta.get("uid") or ""),
        generation=int(meta.get("generation") or 1),
        team=str(spec.get("team")),
        environment=str(spec.get("environment") or "development"),
        tier=str(spec.get("tier") or "standard"),
        quotas={str(k): _text(v) for k, v in (spec.get("resourceQuotas") or {}).items()},
        limits={
            section: {str(k): _text(v) for k, v in (limits.get(section) or {}).items()}
            for section in ("defaultRequest", "defaultLimit", "maxLimit")
            if limits.get(section)
        },
        network=tuple(
            NetworkRule(
                index=index,
                ingress_from=tuple(rule.get("allowIngressFrom") or ()),
                egress_to=tuple(rule.get("allowEgressTo") or ()),
            )
            for index, rule in enumerate(spec.get("networkPolicies") or [])
        ),
        rbac={
            section: subjects
            for section in ROLE_SECTIONS
            if (subjects := tuple(_subject(s) for s in (spec.get("rbac") or {}).get(section) or []))
        },
        monitoring=Monitoring(
            prometheus=bool(monitoring.get("prometheus", True)),
            cost_allocation=bool(monitoring.get("costAllocation", True)),
            team_dashboard=bool(monitoring.get("teamDashboard", False)),
        ),
    )


def _subject(raw: Mapping[str, Any]) -> Subject:
    if raw.get("group"):
        return Subject("Group", str(raw["group"]))
    return Subject("User", str(raw["user"]))
