"""Alembic environment: runs migrations on the connection ``blacktop.store.migrating`` hands over.

blacktop migrates programmatically at start-up, so the usual path is a connection passed in
``config.attributes["connection"]``. Run from the ``alembic`` command line instead, it connects to
``sqlalchemy.url`` with a blocking driver.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from blacktop.store.engines import build_sync_engine
from blacktop.store.tables import Base


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = build_sync_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


_main()
