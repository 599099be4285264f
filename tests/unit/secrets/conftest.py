"""Shared fixtures for the secrets tests: a key ring, a frozen clock and a service on memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blacktop.kernel.clock import FrozenClock
from blacktop.secrets import crypto
from blacktop.secrets.adapters.memory import InMemorySecretVersionRepository
from blacktop.secrets.service import SecretStoreService


@pytest.fixture
def keyring() -> crypto.KeyRing:
    return crypto.KeyRing(current=crypto.Kek(kek_id="kek-1", key=bytes(range(32))))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def repo() -> InMemorySecretVersionRepository:
    return InMemorySecretVersionRepository()


@pytest.fixture
def service(repo: InMemorySecretVersionRepository, keyring: crypto.KeyRing, clock: FrozenClock) -> SecretStoreService:
    return SecretStoreService(repo, keyring=keyring, clock=clock, entropy=os.urandom)


# tests/unit/secrets/ -> the checkout; ``shared`` lies beside it (as tests/corpus.py computes).
SHARED = (Path(__file__).resolve().parents[3] / ".." / "shared").resolve()


@pytest.fixture
def examples_dir() -> Path:
    return SHARED / "examples"


@pytest.fixture(scope="session")
def eso_corpus() -> Path:
    return SHARED / "corpus" / "eso"
