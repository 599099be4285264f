"""Adapters to systems every feature may act on (git repositories), shared at the infrastructure tier.

Feature contexts declare the port they need in their own ``ports.py``; the composition root hands
them these adapters.
"""

from .gitrepos import GitError, GitRepositories, LocalGitRepository

__all__ = ["GitError", "GitRepositories", "LocalGitRepository"]
