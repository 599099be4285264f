"""The 14 Backstage relation types and how each is derived, in both directions, from spec fields.

Backstage's built-in processor makes the *declaring* entity emit both rows of every link: the forward
relation (source = declarer) and the reverse one (source = target). Targets default their namespace
to the declarer's namespace and their kind per field. A ref that cannot be parsed (``dependsOn: [db]``
has no default kind) fails the entity's processing; here it is returned as a problem at that field.
``Location`` entities get no relations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from blacktop.kernel.errors import Problem

from . import errors, model, refs

OWNED_BY: Final = "ownedBy"
OWNER_OF: Final = "ownerOf"
PART_OF: Final = "partOf"
HAS_PART: Final = "hasPart"
PROVIDES_API: Final = "providesApi"
API_PROVIDED_BY: Final = "apiProvidedBy"
CONSUMES_API: Final = "consumesApi"
API_CONSUMED_BY: Final = "apiConsumedBy"
DEPENDS_ON: Final = "dependsOn"
DEPENDENCY_OF: Final = "dependencyOf"
MEMBER_OF: Final = "memberOf"
HAS_MEMBER: Final = "hasMember"
CHILD_OF: Final = "childOf"
PARENT_OF: Final = "parentOf"

RELATION_TYPES: Final[tuple[str, ...]] = (
    OWNED_BY, OWNER_OF, PART_OF, HAS_PART, PROVIDES_API, API_PROVIDED_BY, CONSUMES_API,
    API_CONSUMED_BY, DEPENDS_ON, DEPENDENCY_OF, MEMBER_OF, HAS_MEMBER, CHILD_OF, PARENT_OF,
)  # fmt: skip
"""All 14 relation types."""

INVERSE: Final[Mapping[str, str]] = {
    OWNED_BY: OWNER_OF, OWNER_OF: OWNED_BY, PART_OF: HAS_PART, HAS_PART: PART_OF,
    PROVIDES_API: API_PROVIDED_BY, API_PROVIDED_BY: PROVIDES_API, CONSUMES_API: API_CONSUMED_BY,
    API_CONSUMED_BY: CONSUMES_API, DEPENDS_ON: DEPENDENCY_OF, DEPENDENCY_OF: DEPENDS_ON,
    MEMBER_OF: HAS_MEMBER, HAS_MEMBER: MEMBER_OF, CHILD_OF: PARENT_OF, PARENT_OF: CHILD_OF,
}  # fmt: skip
"""Each relation type's reverse."""


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One spec field that yields relations: its forward type (the reverse comes from ``INVERSE``)."""

    field: str
    forward: str
    many: bool = False


_OWNER = FieldRule("owner", OWNED_BY)
_SYSTEM = FieldRule("system", PART_OF)
_DEPENDS = FieldRule("dependsOn", DEPENDS_ON, many=True)
_DEPENDENCY_OF = FieldRule("dependencyOf", DEPENDENCY_OF, many=True)

RULES_BY_KIND: Final[Mapping[str, tuple[FieldRule, ...]]] = {
    "component": (
        _OWNER,
        _SYSTEM,
        FieldRule("subcomponentOf", PART_OF),
        FieldRule("providesApis", PROVIDES_API, many=True),
        FieldRule("consumesApis", CONSUMES_API, many=True),
        _DEPENDS,
        _DEPENDENCY_OF,
    ),
    "api": (_OWNER, _SYSTEM),
    "resource": (_OWNER, _SYSTEM, _DEPENDS, _DEPENDENCY_OF),
    "system": (_OWNER, FieldRule("domain", PART_OF)),
    "domain": (_OWNER, FieldRule("subdomainOf", PART_OF)),
    "user": (FieldRule("memberOf", MEMBER_OF, many=True),),
    "group": (
        FieldRule("parent", CHILD_OF),
        FieldRule("children", PARENT_OF, many=True),
        FieldRule("members", HAS_MEMBER, many=True),
    ),
    "template": (_OWNER,),
    "airesource": (_OWNER, _SYSTEM),
}
"""Which spec fields of which kind (lower case) produce relations, as Backstage's processors do."""


@dataclass(frozen=True, slots=True)
class Derived:
    """The relations an entity emits, and the problems with refs that could not be parsed."""

    relations: tuple[model.Relation, ...]
    problems: tuple[Problem, ...]


def derive_relations(entity: model.Entity) -> Derived:
    """Both directions of every relation ``entity`` declares, in field order then list order."""
    source = entity.ref
    relations: list[model.Relation] = []
    problems: list[Problem] = []
    for rule in RULES_BY_KIND.get(entity.kind.lower(), ()):
        for path, value in _values(entity.spec, rule):
            try:
                target = refs.parse_spec_ref(value, field=rule.field, referrer=source)
            except errors.InvalidEntityRef as exc:
                problems.append(Problem(path=path, message=str(exc)))
                continue
            relations.append(model.Relation(source, rule.forward, target))
            relations.append(model.Relation(target, INVERSE[rule.forward], source))
    return Derived(tuple(relations), tuple(problems))


def _values(spec: Mapping[str, Any], rule: FieldRule) -> Iterable[tuple[str, str]]:
    value = spec.get(rule.field)
    if value is None:
        return []
    if rule.many:
        items = value if isinstance(value, list) else []
        return [(f"spec.{rule.field}[{i}]", v) for i, v in enumerate(items) if isinstance(v, str)]
    return [(f"spec.{rule.field}", value)] if isinstance(value, str) else []


def relations_from(entity_ref: model.EntityRef, relations: Iterable[model.Relation]) -> list[dict[str, str]]:
    """The ``relations`` array served on ``entity_ref``: rows it is source of, sorted by type then target.

    Duplicates (the same link declared from both sides) collapse to one row, as in Backstage.
    """
    rows = {(r.type, r.target.key) for r in relations if r.source == entity_ref}
    return [{"type": t, "targetRef": target} for t, target in sorted(rows)]
