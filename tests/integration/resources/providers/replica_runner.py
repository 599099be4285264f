"""One blacktop replica for the two-replica test: ``python -m tests.integration.resources.providers.replica_runner``.

It runs the engine with the local provider's controllers against the shared state database at
``--url`` (shard leases in the same database), provisioning on the PostgreSQL at ``--pg-admin``.
Every CreateRole/CreateDatabase it is about to perform is logged (database, step, member) in
``--log-table`` on that server first, so the test can count provisionings per claim across both
processes. Connection secrets live in ``--secrets-table`` so both replicas share them, as they
share the secret store in production. Runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import psycopg
from psycopg import sql

from blacktop import engine
from blacktop.kernel.clock import SystemClock
from blacktop.resources.adapters.postgres import PsycopgPostgresAdmin
from blacktop.resources.providers import LocalProvider, model, steps
from blacktop.store import SqlResourceStore, build_engine
from blacktop.store.leases import SqlLeaseStore
from blacktop.wiring.providers import ProviderControllers, new_password
from tests.integration.engine.store_writing import StoreWriter

SHARDS = 16


class LoggingAdmin:
    """The real admin; logs the provisioning steps (with this member) before performing them."""

    def __init__(self, admin: PsycopgPostgresAdmin, *, url: str, table: str, member: str) -> None:
        self.admin = admin
        self._url = url
        self._table = table
        self._member = member

    @property
    def endpoint(self) -> model.Endpoint:
        return self.admin.endpoint

    async def observe(self, spec: model.PostgresDatabaseSpec, *, password: str | None) -> model.ObservedPostgres:
        return await self.admin.observe(spec, password=password)

    async def apply(self, plan: Sequence[steps.PostgresStep]) -> None:
        made = [(s.database if isinstance(s, steps.CreateDatabase) else s.role, type(s).__name__)
                for s in plan if isinstance(s, steps.CreateRole | steps.CreateDatabase)]  # fmt: skip
        if made:
            async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                for name, step in made:
                    await conn.execute(
                        sql.SQL("INSERT INTO {} (name, step, member) VALUES (%s, %s, %s)").format(
                            sql.Identifier(self._table)
                        ),
                        (name, step, self._member),
                    )
        await self.admin.apply(plan)


class TableSink:
    """A ConnectionSecretSink in a table on the provider's server, shared by both replicas."""

    def __init__(self, url: str, table: str) -> None:
        self._url = url
        self._table = sql.Identifier(table)

    async def _run(self, statement: sql.Composed, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
            cur = await conn.execute(statement, params)
            return list(await cur.fetchall()) if cur.description else []

    async def get(self, ref: model.SecretRef) -> Mapping[str, str] | None:
        rows = await self._run(sql.SQL("SELECT data FROM {} WHERE ref = %s").format(self._table), (str(ref),))
        return None if not rows else dict(rows[0][0])

    async def put(self, ref: model.SecretRef, data: Mapping[str, str], *, owner: str) -> None:
        await self._run(
            sql.SQL(
                "INSERT INTO {} (ref, data) VALUES (%s, %s) ON CONFLICT (ref) DO UPDATE SET data = excluded.data"
            ).format(self._table),
            (str(ref), json.dumps(dict(data))),
        )

    async def delete(self, ref: model.SecretRef) -> None:
        await self._run(sql.SQL("DELETE FROM {} WHERE ref = %s").format(self._table), (str(ref),))


async def main(args: argparse.Namespace) -> None:
    """Run one replica until SIGTERM."""
    db = build_engine(args.url)
    store = SqlResourceStore(db)
    admin = PsycopgPostgresAdmin(args.pg_admin, pool_size=4)
    provider = LocalProvider(
        postgres=LoggingAdmin(admin, url=args.pg_admin, table=args.log_table, member=args.member),
        mysql=None, redis=None, secrets=TableSink(args.pg_admin, args.secrets_table),
        new_password=new_password, rotation_cadences={},
    )  # fmt: skip
    controllers = ProviderControllers(provider, retry_base=timedelta(milliseconds=200), retry_cap=timedelta(seconds=2))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    eng = engine.Engine(
        source=store,
        writer=StoreWriter(store),
        registry=engine.ControllerRegistry(controllers.controllers()),
        clock=SystemClock(),
        settings=engine.EngineSettings(
            member=args.member,
            workers=4,
            poll_interval=timedelta(milliseconds=200),
            reconcile_timeout=timedelta(seconds=5),
            leases=engine.LeaseSettings(
                group=args.lease_group,
                shards=SHARDS,
                lease_ttl=timedelta(seconds=8),
                renew_interval=timedelta(seconds=1),
                safety_margin=timedelta(seconds=1),
            ),
        ),
        lease_store=SqlLeaseStore(db),
    )
    try:
        async with eng:
            print(f"{args.member} started", flush=True)
            await stop.wait()
    finally:
        await admin.close()
        await db.dispose()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--url", "--pg-admin", "--member", "--lease-group", "--log-table", "--secrets-table"):
        parser.add_argument(name, required=True)
    return parser.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(main(parse_args()))
