"""Locations of the shared, read-only material (design examples, spec corpus) that tests read by path."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The ``shared`` folder laid beside the checkout (``../shared``); tests never copy from it."""
    return (REPO_ROOT / ".." / "shared").resolve()


def corpus_dir(*parts: str) -> Path:
    """A folder or file under ``../shared/corpus``."""
    return shared_dir().joinpath("corpus", *parts)


def examples_dir() -> Path:
    """The design's own manifests, which must apply unchanged."""
    return shared_dir() / "examples"
