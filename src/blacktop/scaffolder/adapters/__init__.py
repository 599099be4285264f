"""Adapters for the scaffolder's ports: workspaces and skeleton readers in memory and on local disk, the
in-memory task store, git pushing and the GitHub/GitLab hosts (``hosting``, imported on its own: it needs httpx)."""

from .local import LocalDirectoryWorkspace, LocalSkeletonReader
from .memory import InMemorySkeletonReader, InMemoryWorkspace
from .tasks import InMemoryTaskStore

__all__ = [
    "InMemorySkeletonReader",
    "InMemoryTaskStore",
    "InMemoryWorkspace",
    "LocalDirectoryWorkspace",
    "LocalSkeletonReader",
]
