"""What the providers need from the outside world, stated as Protocols.

The local provider talks to three kinds of server through narrow admin ports: each one reports
what it observes for one managed resource and performs the steps ``planning`` chose. Connection
details leave through a ``ConnectionSecretSink`` (the composition root backs it with the secret
store; tests use the in-memory one), and cloud managed resources are written to a
``ManifestRepository`` (the platform's GitOps repository). Adapters raise ``errors.ServerUnreachable``
when a server does not answer, and the kernel's errors otherwise; never a driver's exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from . import model, steps


class PostgresAdmin(Protocol):
    """Administers roles and databases on one PostgreSQL server."""

    @property
    def endpoint(self) -> model.Endpoint:
        """Where tenants connect (host, port), for their connection details."""
        ...

    async def observe(self, spec: model.PostgresDatabaseSpec, *, password: str | None) -> model.ObservedPostgres:
        """What the server holds for ``spec``'s database and role (``password`` is checked when given)."""
        ...

    async def apply(self, plan: Sequence[steps.PostgresStep]) -> None:
        """Perform the steps in order."""
        ...


class MySQLAdmin(Protocol):
    """Administers databases and users on one MariaDB/MySQL server."""

    @property
    def endpoint(self) -> model.Endpoint:
        """Where tenants connect (host, port)."""
        ...

    async def observe(self, spec: model.MySQLDatabaseSpec, *, password: str | None) -> model.ObservedMySQL:
        """What the server holds for ``spec``'s database and user."""
        ...

    async def apply(self, plan: Sequence[steps.MySQLStep]) -> None:
        """Perform the steps in order."""
        ...


class RedisAdmin(Protocol):
    """Administers ACL users on one Redis server."""

    @property
    def endpoint(self) -> model.Endpoint:
        """Where tenants connect (host, port)."""
        ...

    async def observe(self, spec: model.RedisUserSpec, *, password: str | None) -> model.ObservedRedisUser:
        """What ``ACL GETUSER`` reports for ``spec``'s user."""
        ...

    async def apply(self, plan: Sequence[steps.RedisStep]) -> None:
        """Perform the steps in order."""
        ...


class ConnectionSecretSink(Protocol):
    """Where managed resources' connection details (with the generated password) are kept.

    ``put`` replaces the whole secret; ``get`` returns None when there is none. The provider
    reads the current password back from here, so the sink is the source of truth for
    credentials and the server is made to agree with it.
    """

    async def get(self, ref: model.SecretRef) -> Mapping[str, str] | None:
        """The connection details at ``ref``, or None."""
        ...

    async def put(self, ref: model.SecretRef, data: Mapping[str, str], *, owner: str) -> None:
        """Write the connection details at ``ref`` (``owner`` names the managed resource, for audit)."""
        ...

    async def delete(self, ref: model.SecretRef) -> None:
        """Remove the connection details at ``ref``; absent is fine."""
        ...


class ManifestRepository(Protocol):
    """A git repository an external reconciler (Crossplane via Argo CD/Flux) applies from."""

    @property
    def name(self) -> str:
        """The repository's name, for locations in messages (``platform/gitops``)."""
        ...

    async def list_files(self, prefix: str) -> list[str]:
        """Paths under ``prefix`` on the branch head."""
        ...

    async def awrite(self, files: Mapping[str, str | bytes | None], *, message: str) -> str | None:
        """Commit ``files`` (path -> content; None deletes the path); the commit, or None if nothing changed."""
        ...


class SchemaSource(Protocol):
    """CRD schemas (as JSON Schema) by group, version and kind; None when none is known."""

    def get(self, *, group: str, version: str, kind: str) -> Mapping[str, Any] | None:
        """The object schema, or None."""
        ...

    def describe(self, *, group: str, version: str, kind: str) -> str:
        """Where that schema comes from, for messages."""
        ...
