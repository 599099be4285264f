"""Kubernetes label and field selectors: parsing the string form and matching label maps.

The store translates a parsed ``LabelSelector`` into SQL; this module is the single definition of
what each operator means, and the in-memory matcher the engine and tests use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .errors import InputError, Problem


class Operator(StrEnum):
    """The set-based and equality operators of a label selector requirement."""

    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One clause of a selector, e.g. ``tier in (a,b)``."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this clause."""
        present = self.key in labels
        value = labels.get(self.key)
        match self.operator:
            case Operator.EQUALS | Operator.IN:
                return present and value in self.values
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                return not present or value not in self.values
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
        return False  # pragma: no cover - exhaustive match


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether every requirement holds for ``labels``."""
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(_format(r) for r in self.requirements)


def _format(req: Requirement) -> str:
    match req.operator:
        case Operator.EXISTS:
            return req.key
        case Operator.DOES_NOT_EXIST:
            return f"!{req.key}"
        case Operator.IN | Operator.NOT_IN:
            return f"{req.key} {req.operator.value} ({','.join(req.values)})"
        case _:
            return f"{req.key}{req.operator.value}{req.values[0]}"


_KEY = r"(?:[a-z0-9A-Z.\-]+/)?[A-Za-z0-9](?:[A-Za-z0-9_.\-]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[A-Za-z0-9_./\-]*[A-Za-z0-9])?)?"  # '/' too: see resources.validate_labels
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


def _split_clauses(text: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    clauses: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            clauses.append("".join(current))
            current = []
        else:
            current.append(char)
    clauses.append("".join(current))
    return [c for c in clauses if c.strip()]


def parse_label_selector(text: str | None, *, field: str = "labelSelector") -> LabelSelector:
    """Parse ``a=b,c!=d,e in (x,y),f notin (z),g,!h``; every bad clause is reported at once."""
    if not text or not text.strip():
        return LabelSelector()
    requirements: list[Requirement] = []
    problems: list[Problem] = []
    for clause in _split_clauses(text):
        requirement = _parse_clause(clause)
        if requirement is None:
            problems.append(
                Problem(
                    path=field,
                    message=f"cannot parse selector clause {clause.strip()!r}; use key=value, key!=value, "
                    "key in (a,b), key notin (a,b), key or !key",
                )
            )
        else:
            requirements.append(requirement)
    if problems:
        raise InputError(f"invalid {field} {text!r}", problems=problems)
    return LabelSelector(tuple(requirements))


def _parse_clause(clause: str) -> Requirement | None:
    if m := _SET_RE.match(clause):
        values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
        if not all(_VALUE_RE.match(v) for v in values):
            return None
        op = Operator.IN if m.group(2) == "in" else Operator.NOT_IN
        return Requirement(m.group(1), op, values)
    if m := _EQ_RE.match(clause):
        op = Operator.NOT_EQUALS if m.group(2) == "!=" else Operator.EQUALS
        return Requirement(m.group(1), op, (m.group(3),))
    if m := _EXISTS_RE.match(clause):
        op = Operator.DOES_NOT_EXIST if m.group(1) else Operator.EXISTS
        return Requirement(m.group(2), op)
    return None


FIELD_SELECTOR_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """Equality (or inequality) constraints on ``metadata.name`` / ``metadata.namespace``."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, name: str, namespace: str | None) -> bool:
        """Whether an object with this name and namespace satisfies the selector."""
        fields = {"metadata.name": name}
        if namespace is not None:
            fields["metadata.namespace"] = namespace
        return LabelSelector(self.requirements).matches(fields)


def parse_field_selector(text: str | None) -> FieldSelector:
    """Parse ``metadata.name=x,metadata.namespace!=y``; only name and namespace are indexed."""
    if not text or not text.strip():
        return FieldSelector()
    problems: list[Problem] = []
    requirements: list[Requirement] = []
    for clause in _split_clauses(text):
        m = re.match(r"^\s*([a-zA-Z.]+)\s*(==|=|!=)\s*(\S*)\s*$", clause)
        if not m or m.group(1) not in FIELD_SELECTOR_FIELDS:
            problems.append(
                Problem(
                    path="fieldSelector",
                    message=f"unsupported field selector {clause.strip()!r}; supported fields are "
                    + ", ".join(FIELD_SELECTOR_FIELDS)
                    + " with =, == or !=",
                )
            )
            continue
        op = Operator.NOT_EQUALS if m.group(2) == "!=" else Operator.EQUALS
        requirements.append(Requirement(m.group(1), op, (m.group(3),)))
    if problems:
        raise InputError(f"invalid fieldSelector {text!r}", problems=problems)
    return FieldSelector(tuple(requirements))
