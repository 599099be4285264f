"""Database URLs as operators write them are rewritten to blacktop's drivers."""

from __future__ import annotations

import pytest

from blacktop.kernel.errors import InputError
from blacktop.store import async_url, sync_url

REWRITES = {
    "plain-sqlite": (
        "sqlite:///.blacktop/state.db",
        "sqlite+aiosqlite:///.blacktop/state.db",
        "sqlite:///.blacktop/state.db",
    ),
    "already-aiosqlite": ("sqlite+aiosqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db", "sqlite:////abs/x.db"),
    "plain-postgresql": (
        "postgresql://blacktop@db:5432/blacktop",
        "postgresql+psycopg://blacktop@db:5432/blacktop",
        "postgresql+psycopg://blacktop@db:5432/blacktop",
    ),
    "postgres-alias": ("postgres://u@h/d", "postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    "psycopg2-driver": ("postgresql+psycopg2://u@h/d", "postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    "query-kept": (
        "postgresql://u@/d?host=/run/pg",
        "postgresql+psycopg://u@/d?host=%2Frun%2Fpg",
        "postgresql+psycopg://u@/d?host=%2Frun%2Fpg",
    ),
}


@pytest.mark.parametrize(("given", "want_async", "want_sync"), REWRITES.values(), ids=REWRITES.keys())
def test_urls_are_rewritten_to_the_drivers(given: str, want_async: str, want_sync: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == want_async
    assert sync_url(given).render_as_string(hide_password=False) == want_sync


def test_passwords_survive_the_rewrite() -> None:
    assert async_url("postgresql://u:s3cret@h/d").password == "s3cret"


@pytest.mark.parametrize("url", ["mysql://u@h/d", "oracle://u@h/d"], ids=["mysql", "oracle"])
def test_unsupported_databases_are_refused_with_a_fix(url: str) -> None:
    with pytest.raises(InputError) as caught:
        async_url(url)
    assert caught.value.problems[0].path == "database.url"
    assert "postgresql://" in caught.value.problems[0].message
