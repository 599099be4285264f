"""In-memory adapters of the observability ports, for tests, benchmarks and offline use.

They behave like the real ones where it matters: the repository commits only real changes and
answers None for an unchanged write; the config store refuses nothing but records every write.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from . import defaulting, ports


class InMemoryCatalogReader:
    """A catalog that is a list of entity documents."""

    def __init__(self, entities: Sequence[Mapping[str, Any]] = ()) -> None:
        self.entities: list[Mapping[str, Any]] = list(entities)

        self.reads: list[tuple[str, tuple[str, ...]]] = []
        """``(method, refs or kinds)`` of every read, so tests can tell what a sync looked at."""

    async def list_entities(self, *, kinds: Sequence[str]) -> list[Mapping[str, Any]]:
        """Entities of the given kinds."""
        self.reads.append(("list_entities", tuple(kinds)))
        wanted = {k.lower() for k in kinds}
        return [e for e in self.entities if str(e.get("kind") or "").lower() in wanted]

    async def get_entities(self, refs: Sequence[str]) -> list[Mapping[str, Any]]:
        """The entities with these refs."""
        self.reads.append(("get_entities", tuple(refs)))
        wanted = set(refs)
        return [e for e in self.entities if defaulting.entity_ref(e) in wanted]

    async def list_owned(self, owners: Sequence[str], *, kinds: Sequence[str]) -> list[Mapping[str, Any]]:
        """Entities of the kinds whose owner is one of ``owners``."""
        self.reads.append(("list_owned", tuple(owners)))
        wanted, kinds_wanted = set(owners), {k.lower() for k in kinds}
        return [
            e for e in self.entities
            if str(e.get("kind") or "").lower() in kinds_wanted and defaulting.owner_ref(e) in wanted
        ]  # fmt: skip


class InMemoryOutputRepository:
    """A repository that is a dict per commit."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.commits: list[tuple[str, str, tuple[str, ...]]] = []
        """``(commit, message, paths written)`` in order."""

    async def write(self, files: Mapping[str, str | None], *, message: str) -> str | None:
        """Apply the writes; a new commit id, or None when nothing changed."""
        changed = [p for p, t in files.items() if self.files.get(p) != t]
        if not changed:
            return None
        for path in changed:
            text = files[path]
            if text is None:
                self.files.pop(path, None)
            else:
                self.files[path] = text
        commit = hashlib.sha1(f"{len(self.commits)}:{message}".encode()).hexdigest()
        self.commits.append((commit, message, tuple(sorted(changed))))
        return commit

    async def list_files(self, prefix: str) -> list[str]:
        """Paths under ``prefix``."""
        folder = prefix.rstrip("/") + "/"
        return sorted(p for p in self.files if p.startswith(folder))

    async def read(self, path: str) -> str | None:
        """A file's text, or None."""
        return self.files.get(path)

    async def head(self) -> str | None:
        """The last commit."""
        return self.commits[-1][0] if self.commits else None


class InMemoryConfigObjects:
    """ObservabilityConfig objects in a dict keyed by (namespace, name)."""

    def __init__(self, configs: Sequence[Mapping[str, Any]] = ()) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.applied: list[tuple[str, str]] = []
        self.deleted: list[tuple[str, str]] = []
        for config in configs:
            self._put(config)

    def _put(self, config: Mapping[str, Any]) -> tuple[str, str]:
        meta = config.get("metadata") or {}
        key = (str(meta.get("namespace") or "default"), str(meta["name"]))
        self.objects[key] = copy.deepcopy(dict(config))
        return key

    async def list_configs(self) -> list[Mapping[str, Any]]:
        """Every config."""
        return [copy.deepcopy(c) for _, c in sorted(self.objects.items())]

    async def apply(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Store the documents."""
        self.applied.extend(self._put(d) for d in documents)

    async def delete(self, *, namespace: str, name: str) -> None:
        """Remove one config."""
        if self.objects.pop((namespace, name), None) is not None:
            self.deleted.append((namespace, name))


def _check_protocols() -> tuple[ports.CatalogReader, ports.OutputRepository, ports.ConfigObjects]:
    return InMemoryCatalogReader(), InMemoryOutputRepository(), InMemoryConfigObjects()
