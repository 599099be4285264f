"""Admitting a write: run every matching ValidatingPolicy's CEL validations and collect violations.

The write pipeline builds an ``AdmissionRequest`` after schema validation and before storing,
calls ``admit`` with the current policies, and hands any violations to ``raise_for_violations``.
Expressions see three variables:

* ``object``: the object as it will be stored (null on DELETE);
* ``oldObject``: the stored object before the write (null on CREATE);
* ``request``: ``operation``, ``namespace`` ("" when cluster-scoped), ``name``, ``dryRun``,
  ``kind`` (``group``, ``version``, ``kind``) and ``user`` (``name``, ``groups``, ``kind``, ``ref``).

An expression that cannot be evaluated (a missing field read without ``has()``, a type mismatch,
a non-bool result) refuses the write when the policy's ``failurePolicy`` is Fail and becomes a
warning when it is Ignore.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cel

from blacktop.kernel import identity
from blacktop.kernel.errors import Problem

from . import compiling, model
from .errors import PolicyForbidden, PolicyRejected
from .model import Violation


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """A write awaiting admission; objects are JSON-shaped dicts."""

    operation: model.Operation
    group: str
    version: str
    kind: str
    namespace: str | None
    name: str
    user: identity.Caller
    object: Mapping[str, Any] | None = None
    old_object: Mapping[str, Any] | None = None
    dry_run: bool = False

    def variables(self) -> dict[str, Any]:
        """The CEL variables ``object``, ``oldObject`` and ``request``."""
        return {
            "object": self.object,
            "oldObject": self.old_object,
            "request": {
                "operation": self.operation.value,
                "namespace": self.namespace or "",
                "name": self.name,
                "dryRun": self.dry_run,
                "kind": {"group": self.group, "version": self.version, "kind": self.kind},
                "user": {
                    "name": self.user.name,
                    "groups": sorted(self.user.groups),
                    "kind": self.user.kind.value,
                    "ref": self.user.ref,
                },
            },
        }

    def describe(self) -> str:
        """The target as messages name it: ``Database orders/db1``."""
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True, slots=True)
class AdmissionReport:
    """Every violation (the write is refused if any) and warnings from policies set to Ignore."""

    violations: list[Violation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        """Whether no policy refused the write."""
        return not self.violations


def matches(policy: model.CompiledPolicy, request: AdmissionRequest) -> bool:
    """Whether ``policy``'s match constraints select ``request``."""
    match = policy.match
    if not any(rule.matches(request.group, request.kind, request.operation) for rule in match.rules):
        return False
    if match.namespaces and request.namespace not in match.namespaces:
        return False
    if request.namespace is not None and request.namespace in match.exclude_namespaces:
        return False
    if not match.object_selector.requirements:
        return True
    candidates = [o for o in (request.object, request.old_object) if o is not None]
    return any(match.object_selector.matches((o.get("metadata") or {}).get("labels") or {}) for o in candidates)


def _explain(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no such key {exc.args[0]!r}; guard optional fields with has(), e.g. has(object.spec.field)"
    return str(exc).split(". ")[0].rstrip(".")


def _message_for(validation: model.CompiledValidation, context: cel.Context) -> str:
    if validation.message_program is not None:
        try:
            text = validation.message_program.execute(context)
        except Exception:
            # A broken messageExpression falls back to the static message, as in Kubernetes.
            text = None
        if isinstance(text, str) and text.strip():
            return text
    return validation.message or f"failed expression: {validation.expression}"


def _check(
    policy: model.CompiledPolicy, validation: model.CompiledValidation, context: cel.Context, report: AdmissionReport
) -> None:
    try:
        result = validation.program.execute(context)
        error = None if isinstance(result, bool) else f"returned {type(result).__name__} {result!r}, not a bool"
    except Exception as exc:
        # Any evaluation failure (missing key, no overload, unknown name) is governed by failurePolicy.
        result, error = False, _explain(exc)
    if error is None:
        if not result:
            report.violations.append(
                _violation(policy, validation, _message_for(validation, context), evaluation_error=False)
            )
        return
    text = f"could not evaluate {validation.path}: {error}"
    if policy.failure_policy is model.FailurePolicy.IGNORE:
        report.warnings.append(f"ValidatingPolicy {policy.name!r}: {text} (ignored: failurePolicy is Ignore)")
        return
    report.violations.append(_violation(policy, validation, f"{text} (failurePolicy is Fail)", evaluation_error=True))


def _violation(
    policy: model.CompiledPolicy, validation: model.CompiledValidation, message: str, *, evaluation_error: bool
) -> Violation:
    return Violation(
        policy=policy.name,
        validation=validation.index,
        message=message,
        reason=validation.reason,
        field_path=validation.field_path,
        evaluation_error=evaluation_error,
    )


def _compiled(policy: model.CompiledPolicy | Mapping[str, Any], report: AdmissionReport) -> model.CompiledPolicy | None:
    if isinstance(policy, model.CompiledPolicy):
        return policy
    try:
        return compiling.compile_policy(policy)
    except Exception as exc:
        # A stored policy that no longer compiles must not crash admission; failurePolicy decides.
        name = str((policy.get("metadata") or {}).get("name"))
        failure = str((policy.get("spec") or {}).get("failurePolicy") or "Fail")
        text = f"cannot be compiled ({exc}); fix or delete the policy"
        if failure == model.FailurePolicy.IGNORE.value:
            report.warnings.append(f"ValidatingPolicy {name!r} {text} (ignored: failurePolicy is Ignore)")
        else:
            report.violations.append(Violation(policy=name, validation=None, message=text, evaluation_error=True))
        return None


def evaluate(
    policies: Iterable[model.CompiledPolicy | Mapping[str, Any]], request: AdmissionRequest
) -> AdmissionReport:
    """Run every matching policy on ``request``; policies may be compiled or stored objects (compiled, cached)."""
    report = AdmissionReport()
    context: cel.Context | None = None
    for raw in policies:
        policy = _compiled(raw, report)
        if policy is None or not matches(policy, request):
            continue
        if context is None:
            context = cel.Context(variables=request.variables(), functions=compiling.EXTENSION_FUNCTIONS)
        for validation in policy.validations:
            _check(policy, validation, context, report)
    return report


def admit(policies: Iterable[model.CompiledPolicy | Mapping[str, Any]], request: AdmissionRequest) -> list[Violation]:
    """The violations ``policies`` find in ``request``; empty means admitted (warnings are dropped)."""
    return evaluate(policies, request).violations


def raise_for_violations(violations: Sequence[Violation], request: AdmissionRequest) -> None:
    """Refuse the write if there are violations.

    Raises ``PolicyForbidden`` (403) if any violation's reason is Forbidden, else ``PolicyRejected`` (422).
    """
    if not violations:
        return
    if len(violations) == 1:
        reasons = violations[0].describe()
    else:
        reasons = f"{len(violations)} admission rules: " + "; ".join(v.describe() for v in violations)
    message = f"{request.operation.value} of {request.describe()} was refused by {reasons}"
    if any(v.reason == "Forbidden" for v in violations):
        raise PolicyForbidden(message, violations=violations)
    problems = [Problem(path=v.field_path, message=v.describe()) for v in violations]
    raise PolicyRejected(message, violations=violations, problems=problems)
