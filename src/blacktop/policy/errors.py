"""Errors for admission policies: a write refused by a policy, as 422 or 403.

As in Kubernetes, a refused write is ``Invalid`` (422) unless the validation sets
``reason: Forbidden`` (403). Both carry every violation, so the caller sees all reasons at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from blacktop.kernel.errors import BlacktopError, InputError, NotAllowedError, Problem

from .model import Violation


class PolicyError(BlacktopError):
    """Base class for admission-policy refusals."""


class PolicyRejected(PolicyError, InputError):
    """One or more ValidatingPolicy validations refused the write (422)."""

    reason = "Invalid"

    def __init__(self, message: str, *, violations: Sequence[Violation], problems: Sequence[Problem]) -> None:
        super().__init__(message, problems=problems)
        self.violations = tuple(violations)


class PolicyForbidden(PolicyError, NotAllowedError):
    """A ValidatingPolicy validation with ``reason: Forbidden`` refused the write (403)."""

    reason = "Forbidden"

    def __init__(self, message: str, *, violations: Sequence[Violation]) -> None:
        super().__init__(message)
        self.violations = tuple(violations)
