"""Errors raised while loading and rendering Compositions.

They subclass the kernel kinds so every delivery layer maps them without knowing about
Crossplane: a bad patch or transform is an ``InputError`` (the Composition author must fix it),
a missing source field is a ``NotFoundError`` that patch policies usually swallow, and no
compatible Composition is a ``NotFoundError`` for the XR's owner.

Rendering wraps errors with context at each level (``patch 2 of resource 'rds-instance':
transform 0: ...``), the way function-patch-and-transform wraps Go errors, so an operator can find
the failing line of a long Composition from the message alone. :meth:`CompositionError.wrap`
keeps the class and attributes of the original error while prefixing its message.

Hierarchy::

    CompositionError
     ├── FieldPathError        (InputError)    bad field path syntax, or walking into a scalar
     ├── FieldNotFoundError    (NotFoundError) a path's source is absent
     ├── TransformError        (InputError)    a transform failed
     ├── PatchError            (InputError)    a patch is malformed or failed
     ├── UnsupportedFeatureError (InputError)  a feature blacktop does not implement
     ├── InvalidCompositionError (InputError)  a malformed Composition, with every problem
     ├── NoCompatibleCompositionError (NotFoundError)
     ├── RevisionNotFoundError (NotFoundError)
     └── EnvironmentConfigNotFoundError (NotFoundError)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Self

from blacktop.kernel.errors import BlacktopError, InputError, NotFoundError, Problem

__all__ = [
    "CompositionError",
    "EnvironmentConfigNotFoundError",
    "FieldNotFoundError",
    "FieldPathError",
    "InvalidCompositionError",
    "NoCompatibleCompositionError",
    "PatchError",
    "RevisionNotFoundError",
    "StepFailedError",
    "TransformError",
    "UnsupportedFeatureError",
]


class CompositionError(BlacktopError):
    """Base class of composition errors; carries problems like ``InputError`` does."""

    def __init__(self, message: str, *, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    def wrap(self, context: str) -> Self:
        """Return a copy of this error whose message is prefixed with ``context: ``."""
        wrapped = copy.copy(self)
        wrapped.args = (f"{context}: {self}",)
        wrapped.__cause__ = self
        return wrapped


class FieldPathError(CompositionError, InputError):
    """A field path is malformed, or reading it walked into a value of the wrong type."""


class FieldNotFoundError(CompositionError, NotFoundError):
    """A field path points at a field that does not exist (a missing key, index or parent)."""


class TransformError(CompositionError, InputError):
    """A transform rejected its input or is configured wrongly."""


class PatchError(CompositionError, InputError):
    """A patch is malformed or could not be applied."""


class UnsupportedFeatureError(CompositionError, InputError):
    """The Composition uses a Crossplane feature blacktop does not implement; ``feature`` names it."""

    def __init__(self, message: str, *, feature: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message, problems=problems)
        self.feature = feature


class NoCompatibleCompositionError(CompositionError, NotFoundError):
    """No Composition matches the composite's type (and selector)."""


class RevisionNotFoundError(CompositionError, NotFoundError):
    """The CompositionRevision an XR is pinned to, or selects, does not exist."""


class InvalidCompositionError(CompositionError, InputError):
    """A Composition document is malformed; ``problems`` lists every offending field."""


class StepFailedError(CompositionError, InputError):
    """A pipeline step (a composition function) returned a fatal result."""


class EnvironmentConfigNotFoundError(CompositionError, NotFoundError):
    """A required EnvironmentConfig does not exist, or a required selector matched none."""
