"""In-memory adapters of the providers' ports, for tests and tools that need no servers or git."""

from __future__ import annotations

from collections.abc import Mapping

from blacktop.resources.providers import model


class InMemoryConnectionSecretSink:
    """``ConnectionSecretSink`` in a dict; ``versions`` counts writes per secret (rotation tests read it)."""

    def __init__(self) -> None:
        self.secrets: dict[model.SecretRef, dict[str, str]] = {}
        self.versions: dict[model.SecretRef, int] = {}
        self.owners: dict[model.SecretRef, str] = {}

    async def get(self, ref: model.SecretRef) -> Mapping[str, str] | None:
        """A copy of the stored details, or None."""
        found = self.secrets.get(ref)
        return None if found is None else dict(found)

    async def put(self, ref: model.SecretRef, data: Mapping[str, str], *, owner: str) -> None:
        """Store a copy of ``data``."""
        self.secrets[ref] = dict(data)
        self.versions[ref] = self.versions.get(ref, 0) + 1
        self.owners[ref] = owner

    async def delete(self, ref: model.SecretRef) -> None:
        """Forget the details."""
        self.secrets.pop(ref, None)
        self.versions.pop(ref, None)
        self.owners.pop(ref, None)


class InMemoryManifestRepository:
    """``ManifestRepository`` as a dict of files plus the list of commit messages."""

    def __init__(self, name: str = "memory/gitops") -> None:
        self.name = name
        self.files: dict[str, str] = {}
        self.commits: list[str] = []

    async def list_files(self, prefix: str) -> list[str]:
        """Paths under ``prefix``."""
        return sorted(p for p in self.files if p.startswith(prefix))

    async def awrite(self, files: Mapping[str, str | bytes | None], *, message: str) -> str | None:
        """Apply ``files``; a commit id (``c<n>``) or None when nothing changed."""
        changed = False
        for path, content in files.items():
            if content is None:
                changed |= self.files.pop(path, None) is not None
                continue
            text = content.decode() if isinstance(content, bytes) else content
            changed |= self.files.get(path) != text
            self.files[path] = text
        if not changed:
            return None
        self.commits.append(message)
        return f"c{len(self.commits)}"
