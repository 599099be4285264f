"""XRD ``x-kubernetes-validations`` enforced through the platform's admission policies.

Kubernetes evaluates a CRD's CEL rules with ``self`` bound to the schema node that carries the
rule (and ``oldSelf`` to its previous value on update). blacktop's write pipeline already runs
CEL admission policies (``blacktop.policy``, over ``object`` and ``oldObject``), so an XRD's rules
become one ``ValidatingPolicy`` matching its composite and claim kinds: each rule is rewritten to
read the same node from ``object`` (``self.replicas`` at ``spec`` becomes ``object.spec.replicas``),
guarded so that an absent optional field skips the rule as Kubernetes does, and rules under array
items are evaluated for every item with ``all``. Transition rules (reading ``oldSelf``) apply to
updates only, as in Kubernetes. A refused claim names the field path and the rule's message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from . import definitions

__all__ = ["POLICY_PREFIX", "policy_for", "translate_rule"]

POLICY_PREFIX: Final = "xrd-"
POLICY_API_VERSION: Final = "policy.blacktop.dev/v1alpha1"
_SELF = re.compile(r"(?<![.\w])self\b")
_OLD_SELF = re.compile(r"(?<![.\w])oldSelf\b")


def _access(base: str, key: str) -> str:
    return f"{base}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"{base}[{key!r}]"


def translate_rule(rule: definitions.CelRule, *, old: bool = False) -> str:
    """The rule rewritten over ``object`` (and ``oldObject``), with absent optional fields skipping it."""
    expression = rule.rule
    guards: list[str] = []
    base, old_base = "object", "oldObject"
    depth = 0
    segments = list(zip(rule.path, rule.optional, strict=True))
    wrappers: list[tuple[str, str, list[str]]] = []
    for key, optional in segments:
        if key == "[]":
            variable = f"item{depth}"
            depth += 1
            wrappers.append((base, variable, guards))
            guards = []
            base = variable
            old_base = ""
            continue
        accessed = _access(base, key)
        if optional:
            guards.append(f"has({accessed})")
        base = accessed
        if old_base:
            old_base = _access(old_base, key)
    body = _SELF.sub(base, expression)
    if old:
        body = _OLD_SELF.sub(old_base or "oldObject", body)
    body = f"({body})"
    if guards:
        body = f"!({' && '.join(guards)}) || {body}"
    for outer_base, variable, outer_guards in reversed(wrappers):
        body = f"{outer_base}.all({variable}, {body})"
        if outer_guards:
            body = f"!({' && '.join(outer_guards)}) || {body}"
    return body


def _uses_old(rule: definitions.CelRule) -> bool:
    return bool(_OLD_SELF.search(rule.rule))


def _field_path(rule: definitions.CelRule) -> str:
    path = ".".join(p for p in rule.path if p != "[]")
    extra = rule.field_path.lstrip(".")
    return ".".join(p for p in (path, extra) if p)


def _validation(rule: definitions.CelRule, *, versions: int, old: bool) -> dict[str, Any]:
    expression = translate_rule(rule, old=old)
    if versions > 1:
        expression = f"request.kind.version != {rule.version!r} || ({expression})"
    if old:
        expression = f"oldObject == null || ({expression})"
    where = _field_path(rule) or "the object"
    out: dict[str, Any] = {
        "expression": expression,
        "message": f"{where}: {rule.message or 'failed rule: ' + rule.rule}",
        "reason": "Forbidden" if rule.reason == "Forbidden" else "Invalid",
    }
    if rule.message_expression:
        out["messageExpression"] = _SELF.sub(translate_rule_base(rule), rule.message_expression)
    if _field_path(rule):
        out["fieldPath"] = _field_path(rule)
    return out


def translate_rule_base(rule: definitions.CelRule) -> str:
    """What ``self`` becomes for a rule outside array items (``object.spec``); rules in items keep ``self``."""
    if "[]" in rule.path:
        return "self"
    base = "object"
    for key in rule.path:
        base = _access(base, key)
    return base


def policy_for(definition: definitions.Definition) -> list[dict[str, Any]]:
    """The ValidatingPolicy documents enforcing ``definition``'s CEL rules (none when it has none)."""
    if not definition.rules:
        return []
    kinds = [k.kind for k in definition.kinds()]
    versions = len({r.version for r in definition.rules})
    plain = [r for r in definition.rules if not _uses_old(r)]
    transition = [r for r in definition.rules if _uses_old(r)]
    out: list[dict[str, Any]] = []
    for suffix, rules, operations, old in (("", plain, ["CREATE", "UPDATE"], False),
                                           ("-transitions", transition, ["UPDATE"], True)):  # fmt: skip
        if rules:
            out.append(_policy(definition, suffix, kinds, operations, rules, versions=versions, old=old))
    return out


def _policy(
    definition: definitions.Definition,
    suffix: str,
    kinds: Sequence[str],
    operations: list[str],
    rules: Sequence[definitions.CelRule],
    *,
    versions: int,
    old: bool,
) -> dict[str, Any]:
    return {
        "apiVersion": POLICY_API_VERSION,
        "kind": "ValidatingPolicy",
        "metadata": {
            "name": f"{POLICY_PREFIX}{definition.name}{suffix}",
            "labels": {"resources.blacktop.dev/definition": definition.name},
        },
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [{"apiGroups": [definition.group], "kinds": list(kinds), "operations": operations}]
            },
            "validations": [_validation(r, versions=versions, old=old) for r in rules],
        },
    }
