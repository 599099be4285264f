"""Value objects of the embedded key/value secret store (Vault KV v2 semantics).

A secret lives at a path such as ``secret/data/payments/database`` (mount ``secret``, path
``payments/database``). Each write creates a new numbered version holding a map of string keys to
string values. Versions can be soft-deleted (recoverable), undeleted or destroyed (the ciphertext is
gone for good). Only ``max_versions`` versions are kept; older ones are purged.

These are frozen dataclasses for internal values; the HTTP schemas and SQL rows are other shapes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from blacktop.kernel.errors import InputError, Problem

DEFAULT_MOUNT: Final = "secret"
DEFAULT_MAX_VERSIONS: Final = 10
"""Vault's KV v2 keeps 10 versions when ``max_versions`` is 0 (unset)."""

_SEGMENT = re.compile(r"^[A-Za-z0-9._@-]+$")


@dataclass(frozen=True, slots=True, order=True)
class SecretPath:
    """A mount plus a slash-separated path below it; ``str()`` gives ``mount/path``."""

    mount: str
    path: str

    def __str__(self) -> str:
        return f"{self.mount}/{self.path}"

    @property
    def api_path(self) -> str:
        """The Vault KV v2 data path, ``<mount>/data/<path>``."""
        return f"{self.mount}/data/{self.path}"

    def is_under(self, prefix: str) -> bool:
        """Whether this path equals ``prefix`` or lies below it (``payments/`` covers ``payments/db``)."""
        own = self.path + "/"
        wanted = prefix.strip("/") + "/"
        return wanted == "/" or own.startswith(wanted)


def parse_secret_path(text: str, *, default_mount: str = DEFAULT_MOUNT) -> SecretPath:
    """Parse ``secret/data/team/name``, ``secret/metadata/team/name`` or ``team/name``.

    The ``data``/``metadata`` infix is Vault's API shape; it is dropped. Without a recognised mount
    prefix the whole text is a path under ``default_mount``.
    """
    parts = [p for p in text.strip().strip("/").split("/") if p != ""]
    problems: list[Problem] = []
    has_infix = len(parts) >= 2 and parts[1] in ("data", "metadata")
    if has_infix and (len(parts) >= 3 or parts[0] == default_mount):
        mount, rest = parts[0], parts[2:]
    elif len(parts) >= 2 and parts[0] == default_mount:
        mount, rest = parts[0], parts[1:]
    else:
        mount, rest = default_mount, parts
    if not rest:
        problems.append(Problem(path="path", message=f"secret path {text!r} names no secret below the mount"))
    for segment in rest:
        if segment in (".", "..") or not _SEGMENT.match(segment):
            problems.append(
                Problem(path="path", message=f"segment {segment!r} must match {_SEGMENT.pattern} and not be . or ..")
            )
    if problems:
        raise InputError(f"secret path {text!r} is invalid", problems=problems)
    return SecretPath(mount=mount, path="/".join(rest))


@dataclass(frozen=True, slots=True)
class VersionMetadata:
    """What Vault reports per version: created time, deletion time, destroyed flag; plus the actor."""

    version: int
    created_time: datetime
    created_by: str
    deletion_time: datetime | None = None
    destroyed: bool = False

    @property
    def is_readable(self) -> bool:
        """Neither soft-deleted nor destroyed."""
        return self.deletion_time is None and not self.destroyed


@dataclass(frozen=True, slots=True)
class SecretMetadata:
    """Vault's ``metadata`` endpoint: versions kept, limits and timestamps, never values."""

    path: SecretPath
    current_version: int
    oldest_version: int
    max_versions: int
    cas_required: bool
    created_time: datetime
    updated_time: datetime
    updated_by: str
    versions: Mapping[int, VersionMetadata] = field(default_factory=dict)
    custom_metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SecretVersion:
    """One decrypted version: the key/value map and its metadata."""

    path: SecretPath
    data: Mapping[str, str] = field(repr=False)
    metadata: VersionMetadata

    def __repr__(self) -> str:
        keys = ", ".join(sorted(self.data))
        return f"SecretVersion(path={self.path!s}, version={self.metadata.version}, keys=[{keys}])"
