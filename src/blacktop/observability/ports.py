"""What the observability feature needs from the outside world, stated as Protocols.

The generators are pure; putting their outputs somewhere and reading the inputs they derive from
is not. Four seams cover it: the catalog (``CatalogReader``, for zero-config), the repository the
outputs are committed to (``OutputRepository``, the platform's GitOps repository), the platform's
own ObservabilityConfig objects (``ConfigObjects``, for the catalog sync to create, update and
delete the configs it manages) and a Prometheus to ask about SLO attainment (``MetricsQuerier``).
Adapters live in the composition root (catalog, git, write pipeline) and in ``adapters``
(Prometheus over HTTP); tests use the ``InMemory*`` fakes in ``memory``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class CatalogReader(Protocol):
    """Reads catalog entities as Backstage JSON documents (with ``relations`` where the catalog has them)."""

    async def list_entities(self, *, kinds: Sequence[str]) -> list[Mapping[str, Any]]:
        """Every entity whose kind is one of ``kinds`` (compared case-insensitively)."""
        ...

    async def get_entities(self, refs: Sequence[str]) -> list[Mapping[str, Any]]:
        """The entities named by ``refs`` (lower-case ``kind:namespace/name``) that exist."""
        ...

    async def list_owned(self, owners: Sequence[str], *, kinds: Sequence[str]) -> list[Mapping[str, Any]]:
        """Entities of the given kinds owned (``ownedBy``) by one of ``owners`` (lower-case refs)."""
        ...


class OutputRepository(Protocol):
    """The repository generated files are committed to (one commit per call)."""

    async def write(self, files: Mapping[str, str | None], *, message: str) -> str | None:
        """Commit ``files`` (None deletes a path); the new commit, or None when nothing changed."""
        ...

    async def list_files(self, prefix: str) -> list[str]:
        """Every file path under ``prefix`` at the branch head."""
        ...

    async def read(self, path: str) -> str | None:
        """A file's text at the branch head, or None when absent."""
        ...

    async def head(self) -> str | None:
        """The commit the branch points at, or None while the repository is empty."""
        ...


class ConfigObjects(Protocol):
    """The platform's ObservabilityConfig objects, written through the platform's write pipeline."""

    async def list_configs(self) -> list[Mapping[str, Any]]:
        """Every ObservabilityConfig object, in every namespace."""
        ...

    async def apply(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Create or update the documents (atomically: all or none)."""
        ...

    async def delete(self, *, namespace: str, name: str) -> None:
        """Delete one config; absent is fine."""
        ...


@dataclass(frozen=True, slots=True)
class Sample:
    """One series of an instant query result."""

    labels: Mapping[str, str]
    value: float


class MetricsQuerier(Protocol):
    """A Prometheus answering instant queries."""

    @property
    def url(self) -> str:
        """Where the Prometheus is, for messages and links."""
        ...

    async def fetch_instant(self, query: str) -> list[Sample]:
        """The result of an instant PromQL query; ``UnavailableError`` when Prometheus cannot be reached."""
        ...
