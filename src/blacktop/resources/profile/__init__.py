"""The built-in platform profile: XRDs and Compositions for ``Database`` and ``Cache``, shipped as package data.

``composition-database-aws.yaml`` is the design's RDS Composition byte for byte; the other files
add the local-provider Compositions (the default, so a claim works on a bare laptop), a MySQL
flavour for AWS and the ``Cache`` (Redis) API. ``wiring/resources.py`` applies them at start.
"""

from __future__ import annotations

from importlib import resources as package_files

__all__ = ["profile_files"]


def profile_files() -> list[tuple[str, bytes]]:
    """Every profile manifest as ``(name, content)``, sorted by name."""
    root = package_files.files(__name__)
    return sorted(
        (f"profile/{entry.name}", entry.read_bytes()) for entry in root.iterdir() if entry.name.endswith(".yaml")
    )
