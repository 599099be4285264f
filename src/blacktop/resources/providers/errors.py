"""Errors of the providers, each a kernel kind so every delivery layer already knows how to show it.

``ServerUnreachable`` means the server did not answer (connection refused, timed out, lost):
the provider reports Ready=False with reason ``ServerUnreachable`` and retries with backoff.
``ServerRefused`` means it answered but refused a statement (missing admin privilege, a name
taken by an object outside blacktop): retried too, as an operator may fix it, with reason
``ServerRefused``. ``OwnershipConflict`` means a server object of that name belongs to someone
else; blacktop never adopts it.
"""

from __future__ import annotations

from blacktop.kernel.errors import BlacktopError, ConflictError, UnavailableError


class ProviderError(BlacktopError):
    """Base class of the providers' errors."""


class ServerUnreachable(ProviderError, UnavailableError):
    """A database or cache server did not answer."""

    reason = "ServerUnreachable"


class ServerRefused(ProviderError, UnavailableError):
    """A server answered but refused a statement."""

    reason = "ServerRefused"


class OwnershipConflict(ProviderError, ConflictError):
    """A server object of the wanted name exists and belongs to someone else."""

    reason = "AlreadyExists"


class SchemaViolation(ProviderError, ConflictError):
    """A rendered cloud managed resource does not satisfy its CRD schema."""

    reason = "InvalidManagedResource"
