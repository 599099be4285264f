"""The ValidatingPolicy that refuses semantically invalid TeamNamespaces at write time (a 422 with paths).

The schema cannot compare two quantities or require "exactly one of group or user", and the write
pipeline's extension point for such rules is admission: stored ``ValidatingPolicy`` objects whose
CEL runs on every write (the same route XRD ``x-kubernetes-validations`` take). This module builds
that policy as data; the wiring applies it at start-up. ``validation`` states the same rules in
Python for the controller and for messages; the tests run both on one table so they cannot drift.

CEL has no quantity type here, so quantities are converted with ``quantities.cel_quantity``: a
chain of suffix tests ending in ``double()``. Doubles are exact for every binary-suffixed amount
and for decimal ones up to 2^53, far past any real limit.
"""

from __future__ import annotations

from typing import Any, Final

from blacktop.kernel import quantities

from . import kind, validation

POLICY_NAME: Final = "teamnamespace-rules"
POLICY_API_VERSION: Final = "policy.blacktop.dev/v1alpha1"

_LIMITS: Final = "object.spec.limitRanges"


def _section(section: str) -> str:
    return f"{_LIMITS}.{section}"


def _present(section: str, resource: str) -> str:
    return f"has({_section(section)}) && {resource!r} in {_section(section)}"


def _value(section: str, resource: str) -> str:
    return f"string({_section(section)}[{resource!r}])"


def order_validation(lower: str, upper: str, resource: str) -> dict[str, Any]:
    """One validation: ``limitRanges.<lower>.<resource>`` does not exceed ``limitRanges.<upper>.<resource>``."""
    guard = f"has(object.spec.limitRanges) && {_present(lower, resource)} && {_present(upper, resource)}"
    if (lower, upper) == ("defaultRequest", "maxLimit"):
        # As in ``validation``: with a defaultLimit in between, one of the other two pairs reports it.
        guard += f" && !({_present('defaultLimit', resource)})"
    compare = (
        f"[[{_value(lower, resource)}, {_value(upper, resource)}].map(q, {quantities.cel_quantity('q')})]"
        ".all(v, v[0] <= v[1])"
    )
    message = validation.order_message(lower, upper, resource, "<lower>", "<upper>")
    head, _, tail = message.partition("(<lower>)")
    middle, _, rest = tail.partition("(<upper>)")
    low, high = _value(lower, resource), _value(upper, resource)
    parts = [repr(head + "("), low, repr(")" + middle + "("), high, repr(")" + rest)]
    message_expression = " + ".join(parts)
    return {
        "expression": f"!({guard}) || {compare}",
        "message": validation.order_message(lower, upper, resource, "its value", "its value"),
        "messageExpression": message_expression,
        "fieldPath": f"spec.limitRanges.{lower}.{resource}",
        "reason": "Invalid",
    }


def _subjects_validation(section: str) -> dict[str, Any]:
    field = f"object.spec.rbac.{section}"
    return {
        "expression": f"!(has(object.spec.rbac) && has({field})) || {field}.all(s, has(s.group) != has(s.user))",
        "message": "name exactly one subject per item: either group: <name> or user: <name>",
        "fieldPath": f"spec.rbac.{section}",
        "reason": "Invalid",
    }


def _name_validation() -> dict[str, Any]:
    return {
        "expression": f"size(object.metadata.name) <= 63 && object.metadata.name.matches({kind.DNS_LABEL!r})",
        "message": "the name becomes a Kubernetes namespace: use at most 63 lowercase letters, digits and '-', "
        "starting and ending with a letter or digit (e.g. payments-production)",
        "fieldPath": "metadata.name",
        "reason": "Invalid",
    }


UNCHANGED_SPEC: Final = (
    "(oldObject != null && has(oldObject.spec) && has(object.spec) && oldObject.spec == object.spec)"
)
"""True for updates that leave the spec alone (status, finalizers, labels); the rules skip those.

An object stored before the policy existed (or while it was deleted) may break a rule; its
controller must still be able to write its status and remove its finalizer, so only writes that
change the spec are judged (Kubernetes calls this ratcheting).
"""


def validations() -> list[dict[str, Any]]:
    """Every validation of the policy: the name, the limit order per resource, one subject per item."""
    rules = [_name_validation()]
    for resource in kind.LIMIT_RESOURCES:
        for lower, upper in validation.LIMIT_ORDER:
            rules.append(order_validation(lower, upper, resource))
    rules.extend(_subjects_validation(section) for section in ("admins", "developers", "viewers"))
    return [{**rule, "expression": f"{UNCHANGED_SPEC} || ({rule['expression']})"} for rule in rules]


def policy_document() -> dict[str, Any]:
    """The ValidatingPolicy enforcing ``validations()`` on TeamNamespace creates and updates."""
    return {
        "apiVersion": POLICY_API_VERSION,
        "kind": "ValidatingPolicy",
        "metadata": {"name": POLICY_NAME, "labels": {"app.kubernetes.io/managed-by": "blacktop"}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [{"apiGroups": [kind.GROUP], "kinds": [kind.KIND], "operations": ["CREATE", "UPDATE"]}]
            },
            "validations": validations(),
        },
    }
