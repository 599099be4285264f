"""What the TeamNamespace schema cannot check: quantity order, subjects, CIDRs, selectors, names.

``problems_in`` returns every problem of a (schema-defaulted) TeamNamespace, each with its field
path, so a platform engineer fixes them all at once. The controller runs it before rendering, and
the admission policy (``admission``) enforces the same rules at write time, so an invalid object
is refused with a 422 and never reaches the controller through the API.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from blacktop.kernel import quantities
from blacktop.kernel.errors import Problem
from blacktop.kernel.resources import validate_labels

from . import kind

LIMIT_ORDER: Final = (("defaultRequest", "defaultLimit"), ("defaultLimit", "maxLimit"), ("defaultRequest", "maxLimit"))
"""Pairs (lower, upper) of ``spec.limitRanges`` that must hold for every resource both state."""

_DNS_LABEL: Final = re.compile(kind.DNS_LABEL)
_RESOURCE_NAME: Final = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[a-zA-Z0-9]([-a-zA-Z0-9._/]*[a-zA-Z0-9])?$")
_ROLES: Final = ("admins", "developers", "viewers")


def problems_in(obj: Mapping[str, Any]) -> list[Problem]:
    """Every semantic problem of a TeamNamespace, ordered as found (the schema's own problems are not repeated)."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    problems = _name_problems((obj.get("metadata") or {}).get("name"))
    problems += _quota_problems(spec.get("resourceQuotas"))
    problems += limit_problems(spec.get("limitRanges"))
    problems += _network_problems(spec.get("networkPolicies"))
    problems += _rbac_problems(spec.get("rbac"))
    return problems


def _name_problems(name: object) -> list[Problem]:
    if isinstance(name, str) and len(name) <= 63 and _DNS_LABEL.match(name):
        return []
    return [
        Problem(
            "metadata.name",
            f"{name!r} cannot name a Kubernetes namespace: use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (e.g. payments-production)",
        )
    ]


def _quantity_problem(path: str, value: object) -> Problem | None:
    try:
        quantities.parse_quantity(value)
    except quantities.QuantityError as exc:
        return Problem(path, str(exc))
    return None


def _quota_problems(quotas: object) -> list[Problem]:
    if not isinstance(quotas, Mapping):
        return []
    problems: list[Problem] = []
    for name, value in quotas.items():
        plain = re.fullmatch(r"[A-Za-z0-9_-]+", str(name)) is not None
        path = f"spec.resourceQuotas.{name}" if plain else f"spec.resourceQuotas[{name}]"
        if not _RESOURCE_NAME.match(str(name)):
            problems.append(
                Problem(path, f"{name!r} is not a resource name (e.g. cpu, memory, pods, requests.storage)")
            )
        found = _quantity_problem(path, value)
        if found is not None:
            problems.append(found)
    return problems


def limit_problems(limits: object) -> list[Problem]:
    """Quantity syntax and the order ``defaultRequest <= defaultLimit <= maxLimit`` per resource."""
    if not isinstance(limits, Mapping):
        return []
    problems: list[Problem] = []
    parsed: dict[tuple[str, str], Any] = {}
    for section in ("defaultRequest", "defaultLimit", "maxLimit"):
        values = limits.get(section)
        if not isinstance(values, Mapping):
            continue
        for resource, value in values.items():
            path = f"spec.limitRanges.{section}.{resource}"
            found = _quantity_problem(path, value)
            if found is not None:
                problems.append(found)
            else:
                parsed[(section, str(resource))] = (value, quantities.parse_quantity(value))
    for resource in sorted({r for _, r in parsed}):
        for lower, upper in LIMIT_ORDER:
            low, high = parsed.get((lower, resource)), parsed.get((upper, resource))
            if low is None or high is None or low[1] <= high[1]:
                continue
            if (lower, upper) == ("defaultRequest", "maxLimit") and (("defaultLimit", resource) in parsed):
                continue  # already reported through defaultLimit
            problems.append(
                Problem(f"spec.limitRanges.{lower}.{resource}", order_message(lower, upper, resource, low[0], high[0]))
            )
    return problems


def order_message(lower: str, upper: str, resource: str, low: object, high: object) -> str:
    """The message for a limit pair out of order, naming both fields and values."""
    return (
        f"spec.limitRanges.{lower}.{resource} ({low}) exceeds spec.limitRanges.{upper}.{resource} ({high}); "
        "lower it or raise the other (defaultRequest <= defaultLimit <= maxLimit)"
    )


def _network_problems(rules: object) -> list[Problem]:
    if not isinstance(rules, Sequence) or isinstance(rules, str):
        return []
    problems: list[Problem] = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            continue
        for direction in ("allowIngressFrom", "allowEgressTo"):
            for number, peer in enumerate(rule.get(direction) or []):
                if isinstance(peer, Mapping):
                    problems += _peer_problems(f"spec.networkPolicies[{index}].{direction}[{number}]", peer)
    return problems


def _peer_problems(path: str, peer: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    block = peer.get("ipBlock")
    if isinstance(block, Mapping):
        if peer.get("namespaceSelector") is not None or peer.get("podSelector") is not None:
            problems.append(Problem(f"{path}.ipBlock", "an ipBlock peer cannot also have a namespace or pod selector"))
        network = _network(f"{path}.ipBlock.cidr", block.get("cidr"), problems)
        for number, text in enumerate(block.get("except") or []):
            excluded = _network(f"{path}.ipBlock.except[{number}]", text, problems)
            if network is not None and excluded is not None and not _within(excluded, network):
                problems.append(
                    Problem(f"{path}.ipBlock.except[{number}]", f"{text} is not inside {block.get('cidr')}")
                )
    for selector in ("namespaceSelector", "podSelector"):
        value = peer.get(selector)
        if isinstance(value, Mapping):
            problems += _selector_problems(f"{path}.{selector}", value)
    return problems


def _network(path: str, text: object, problems: list[Problem]) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if not isinstance(text, str) or "/" not in text:
        problems.append(Problem(path, f"{text!r} is not a CIDR; write an address and a prefix length, e.g. 10.0.0.0/8"))
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        problems.append(Problem(path, f"{text!r} is not a CIDR ({exc}); e.g. 10.0.0.0/8 or fd00::/8"))
        return None


def _within(
    inner: ipaddress.IPv4Network | ipaddress.IPv6Network, outer: ipaddress.IPv4Network | ipaddress.IPv6Network
) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _selector_problems(path: str, selector: Mapping[str, Any]) -> list[Problem]:
    problems = list(validate_labels(selector.get("matchLabels"), path=f"{path}.matchLabels"))
    for number, expression in enumerate(selector.get("matchExpressions") or []):
        if not isinstance(expression, Mapping):
            continue
        values = expression.get("values") or []
        where = f"{path}.matchExpressions[{number}].values"
        if expression.get("operator") in ("In", "NotIn") and not values:
            problems.append(Problem(where, f"operator {expression.get('operator')} needs at least one value"))
        if expression.get("operator") in ("Exists", "DoesNotExist") and values:
            problems.append(Problem(where, f"operator {expression.get('operator')} takes no values; remove them"))
    return problems


def _rbac_problems(rbac: object) -> list[Problem]:
    if not isinstance(rbac, Mapping):
        return []
    problems: list[Problem] = []
    for role in _ROLES:
        for number, subject in enumerate(rbac.get(role) or []):
            if not isinstance(subject, Mapping):
                continue
            named = [k for k in ("group", "user") if subject.get(k)]
            if len(named) != 1:
                problems.append(
                    Problem(
                        f"spec.rbac.{role}[{number}]", "name exactly one subject: either group: <name> or user: <name>"
                    )
                )
    return problems


TEAM_NAMESPACE: Final = dataclasses.replace(kind.TEAM_NAMESPACE_SCHEMA, checks=problems_in)
"""The kind as the platform serves it: the schema of ``kind`` plus ``problems_in`` on every spec change."""
