"""A PostgreSQL admin fake that keeps roles and databases in dicts and can be "down"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from blacktop.resources.providers import ServerUnreachable, model, steps


@dataclass
class Role:
    password: str
    marker: str
    limit: int
    privileged: bool = False


@dataclass
class Database:
    owner: str
    marker: str | None
    public_connect: bool = True


@dataclass
class FakePostgres:
    """``PostgresAdmin`` over dicts; ``down`` makes every call fail as an unreachable server does."""

    roles: dict[str, Role] = field(default_factory=dict)
    databases: dict[str, Database] = field(default_factory=dict)
    applied: list[tuple[steps.PostgresStep, ...]] = field(default_factory=list)
    down: bool = False
    endpoint: model.Endpoint = field(default_factory=lambda: model.Endpoint("pg.local", 5432))

    def _check(self) -> None:
        if self.down:
            raise ServerUnreachable("PostgreSQL at pg.local:5432 did not answer: connection refused")

    async def observe(self, spec: model.PostgresDatabaseSpec, *, password: str | None) -> model.ObservedPostgres:
        self._check()
        role = self.roles.get(spec.role)
        db = self.databases.get(spec.database)
        return model.ObservedPostgres(
            role_exists=role is not None,
            role_can_login=role is not None,
            role_is_privileged=bool(role and role.privileged),
            password_matches=None if role is None or password is None else role.password == password,
            connection_limit=role.limit if role else -1,
            role_marker=role.marker if role else None,
            database_exists=db is not None,
            database_owner=db.owner if db else None,
            public_can_connect=bool(db and db.public_connect),
            database_marker=db.marker if db else None,
        )

    async def apply(self, plan: Sequence[steps.PostgresStep]) -> None:
        self._check()
        self.applied.append(tuple(plan))
        for step in plan:
            match step:
                case steps.CreateRole(role=r, password=p, connection_limit=lim, marker=m):
                    self.roles[r] = Role(p, m, lim)
                case steps.ConfigureRole(role=r, connection_limit=lim, marker=m):
                    self.roles[r].limit, self.roles[r].marker, self.roles[r].privileged = lim, m, False
                case steps.SetRolePassword(role=r, password=p):
                    self.roles[r].password = p
                case steps.CreateDatabase(database=d, owner=o, marker=m):
                    self.databases[d] = Database(o, m)
                case steps.SetDatabaseOwner(database=d, owner=o):
                    self.databases[d].owner = o
                case steps.MarkDatabase(database=d, marker=m):
                    self.databases[d].marker = m
                case steps.RevokePublicConnect(database=d):
                    self.databases[d].public_connect = False
                case steps.DropDatabase(database=d):
                    self.databases.pop(d, None)
                case steps.DropRole(role=r):
                    self.roles.pop(r, None)
