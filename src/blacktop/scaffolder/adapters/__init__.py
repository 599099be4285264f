"""Adapters for the scaffolder's ports: workspaces and skeleton readers in memory and on local disk."""

from .local import LocalDirectoryWorkspace, LocalSkeletonReader
from .memory import InMemorySkeletonReader, InMemoryWorkspace

__all__ = ["InMemorySkeletonReader", "InMemoryWorkspace", "LocalDirectoryWorkspace", "LocalSkeletonReader"]
