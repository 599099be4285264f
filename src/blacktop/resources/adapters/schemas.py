"""CRD schemas read from a directory in the datreeio/CRDs-catalog layout (``<group>/<kind>_<version>.json``).

Those files are JSON Schema generated from CRDs, the form kubeconform uses; blacktop validates
cloud managed resources against them before writing them to the GitOps repository. Files are
read once and cached; several directories may be searched in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


class DirectorySchemaSource:
    """``providers.ports.SchemaSource`` over directories of ``<group>/<kind>_<version>.json`` files."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self._roots = [Path(r) for r in roots]
        self._cache: dict[tuple[str, str, str], tuple[Mapping[str, Any], Path] | None] = {}

    def _find(self, group: str, version: str, kind: str) -> tuple[Mapping[str, Any], Path] | None:
        key = (group, version, kind)
        if key not in self._cache:
            found = None
            for root in self._roots:
                path = root / group / f"{kind.lower()}_{version}.json"
                if path.is_file():
                    found = (json.loads(path.read_text(encoding="utf-8")), path)
                    break
            self._cache[key] = found
        return self._cache[key]

    def get(self, *, group: str, version: str, kind: str) -> Mapping[str, Any] | None:
        """The schema, or None."""
        found = self._find(group, version, kind)
        return None if found is None else found[0]

    def describe(self, *, group: str, version: str, kind: str) -> str:
        """The file the schema was read from."""
        found = self._find(group, version, kind)
        return "no schema" if found is None else f"validated against {found[1].name}"
