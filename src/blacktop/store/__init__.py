"""Persistence: the SQL resource store, its migrations, engines and API token records.

Everything that speaks SQLAlchemy lives here. Other packages depend on the kernel's
``ResourceStore`` port, and the composition root picks ``SqlResourceStore`` (SQLite by default,
PostgreSQL at scale) or ``InMemoryResourceStore`` (tests).
"""

from .engines import async_url, build_engine, build_sync_engine, sync_url
from .memory import InMemoryResourceStore, InMemoryTokenStore
from .migrating import head_revisions, migrate, upgrade_to_head
from .resources import SqlResourceStore
from .tokens import ApiTokenRecord, SqlTokenStore

__all__ = [
    "ApiTokenRecord",
    "InMemoryResourceStore",
    "InMemoryTokenStore",
    "SqlResourceStore",
    "SqlTokenStore",
    "async_url",
    "build_engine",
    "build_sync_engine",
    "head_revisions",
    "migrate",
    "sync_url",
    "upgrade_to_head",
]
