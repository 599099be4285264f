"""The error kinds every part of blacktop raises on purpose.

Each delivery layer (HTTP API, CLI, portal) maps these kinds to its own surface in exactly one
place, so domain code never knows about status codes. ``str(err)`` is always a complete sentence
fit for an operator: the thing, its id, what went wrong, and where possible how to fix it.

Hierarchy::

    BlacktopError
     ├── InputError            422  bad input; carries every Problem with its field path
     │    └── TooLargeError    413  input over a size, depth or expansion limit
     ├── UnauthenticatedError  401  no or unknown credentials
     ├── NotAllowedError       403  known caller, verb not permitted
     ├── NotFoundError         404
     ├── ConflictError         409  stale resourceVersion, duplicate name, ...
     ├── UnavailableError      503  a dependency is down; retrying may help
     ├── TemporaryFailure           reconcile outcome: requeue after ``delay``
     └── PermanentFailure           reconcile outcome: stop, condition Ready=False
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located by a dotted field path (``spec.owner``, ``spec.ports[0]``).

    ``document`` names the file or document index where the input came from several documents, and
    ``line`` the 1-based line number when known.
    """

    path: str
    message: str
    document: str | None = None
    line: int | None = None

    def describe(self) -> str:
        """Render the problem as one line: ``file:line: path: message``."""
        where = ""
        if self.document is not None:
            where = self.document + (f":{self.line}" if self.line is not None else "") + ": "
        location = f"{self.path}: " if self.path else ""
        return f"{where}{location}{self.message}"


class BlacktopError(Exception):
    """Base class; ``str(err)`` is a complete sentence fit for an operator."""

    reason: str = "InternalError"


class InputError(BlacktopError):
    """The caller sent something invalid; ``problems`` lists every offending field."""

    reason = "Invalid"

    def __init__(self, message: str, *, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class TooLargeError(InputError):
    """The input exceeds a size, nesting depth or alias-expansion limit."""

    reason = "RequestEntityTooLarge"


class UnauthenticatedError(BlacktopError):
    """The request carries no credentials, or ones blacktop does not know."""

    reason = "Unauthorized"


class NotAllowedError(BlacktopError):
    """The caller is known but may not perform this verb on this resource."""

    reason = "Forbidden"


class NotFoundError(BlacktopError):
    """The named thing does not exist."""

    reason = "NotFound"


class ConflictError(BlacktopError):
    """The write conflicts with the current state (stale resourceVersion, existing name, ...)."""

    reason = "Conflict"


class UnavailableError(BlacktopError):
    """A dependency (database, server, remote host) is unreachable; retrying may help."""

    reason = "ServiceUnavailable"


class TemporaryFailure(BlacktopError):
    """A reconcile outcome: try again after ``delay``."""

    reason = "TemporaryFailure"

    def __init__(self, message: str, *, delay: timedelta) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentFailure(BlacktopError):
    """A reconcile outcome: retrying will not help until the object changes."""

    reason = "PermanentFailure"


STATUS_BY_REASON = {
    "Invalid": 422,
    "RequestEntityTooLarge": 413,
    "Unauthorized": 401,
    "Forbidden": 403,
    "NotFound": 404,
    "Conflict": 409,
    "ServiceUnavailable": 503,
    "TemporaryFailure": 503,
}
"""The status code each error kind is reported with, in API responses and in audit records alike."""


def status_code(error: BlacktopError) -> int:
    """The status code ``error`` is reported with; 500 for anything not raised on purpose."""
    return STATUS_BY_REASON.get(error.reason, 500)
