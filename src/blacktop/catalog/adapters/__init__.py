"""Implementations of the catalog's ports; IO lives here, never in the domain modules."""

from __future__ import annotations

from .filesystem import FileSystemLocationReader
from .git import GitCheckouts, GitTarget, parse_git_target
from .memory import InMemoryLocationReader
from .sources import CatalogLocationSources
from .url import HttpLocationReader

__all__ = [
    "CatalogLocationSources",
    "FileSystemLocationReader",
    "GitCheckouts",
    "GitTarget",
    "HttpLocationReader",
    "InMemoryLocationReader",
    "parse_git_target",
]
