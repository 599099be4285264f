"""Compiled ValidatingPolicy values: match constraints and validations with their CEL programs.

A policy object is parsed and its expressions compiled once (``compiling``), then evaluated on
every matching write (``admission``). These frozen values are what both share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import cel

from blacktop.kernel.selectors import LabelSelector


class Operation(StrEnum):
    """The write being admitted."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class FailurePolicy(StrEnum):
    """What an expression that cannot be evaluated does: refuse the write, or let it through."""

    FAIL = "Fail"
    IGNORE = "Ignore"


ANY = "*"


@dataclass(frozen=True, slots=True)
class ResourceRule:
    """Which API groups, kinds and operations a policy applies to; ``*`` matches anything."""

    api_groups: frozenset[str]
    kinds: frozenset[str]
    operations: frozenset[str]

    def matches(self, group: str, kind: str, operation: Operation) -> bool:
        """Whether a write of ``kind`` in ``group`` by ``operation`` falls under this rule."""
        return (
            (ANY in self.api_groups or group in self.api_groups)
            and (ANY in self.kinds or kind in self.kinds)
            and (ANY in self.operations or operation.value in self.operations)
        )


@dataclass(frozen=True, slots=True)
class MatchConstraints:
    """Which writes a policy looks at: resource rules, namespaces and an object label selector.

    ``namespaces`` (when not empty) admits only namespaced objects in those namespaces; a
    cluster-scoped object never matches it. The object selector matches when the new or the old
    object carries matching labels, as in Kubernetes.
    """

    rules: tuple[ResourceRule, ...]
    namespaces: frozenset[str] = frozenset()
    exclude_namespaces: frozenset[str] = frozenset()
    object_selector: LabelSelector = field(default_factory=LabelSelector)


@dataclass(frozen=True, slots=True)
class CompiledValidation:
    """One ``spec.validations[index]`` entry with its compiled programs."""

    index: int
    expression: str
    program: cel.Program = field(compare=False, repr=False)
    message: str = ""
    message_program: cel.Program | None = field(default=None, compare=False, repr=False)
    reason: str = "Invalid"
    field_path: str = ""

    @property
    def path(self) -> str:
        """Where the expression sits in the policy object."""
        return f"spec.validations[{self.index}].expression"


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A parsed, compiled ValidatingPolicy ready for ``admission.admit``."""

    name: str
    failure_policy: FailurePolicy
    match: MatchConstraints
    validations: tuple[CompiledValidation, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    """One validation that refused the write, or could not be evaluated under failurePolicy Fail."""

    policy: str
    validation: int | None
    message: str
    reason: str = "Invalid"
    field_path: str = ""
    evaluation_error: bool = False

    def describe(self) -> str:
        """The violation as one sentence naming the policy."""
        return f"ValidatingPolicy {self.policy!r}: {self.message}"
