"""The local provider's planners: from what a server holds to the steps that converge it.

Test design notes: each row is one server state; an in-sync state must plan nothing (that is what
makes resyncs cheap and the provider idempotent), and each kind of drift plans exactly its repair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from blacktop.resources.providers import model, planning, steps

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PG = model.parse_postgres(
    {"apiVersion": model.API_VERSION, "kind": "PostgresDatabase", "metadata": {"name": "db", "namespace": "team-a"},
     "spec": {"forProvider": {"connectionLimit": 20}}}
)  # fmt: skip
MARK = "blacktop:team-a/db"
ROLE = DB = "team_a__db"
IN_SYNC = model.ObservedPostgres(
    role_exists=True, role_can_login=True, password_matches=True, connection_limit=20, role_marker=MARK,
    database_exists=True, database_owner=ROLE, public_can_connect=False, database_marker=MARK,
)  # fmt: skip


def observed(**changes: object) -> model.ObservedPostgres:
    values = {f: getattr(IN_SYNC, f) for f in IN_SYNC.__dataclass_fields__}
    values.update(changes)
    return model.ObservedPostgres(**values)


@dataclass
class PgCase:
    observed: model.ObservedPostgres
    want: tuple[steps.PostgresStep, ...]
    new_password: bool = False


PG_CASES = {
    "nothing-exists": PgCase(
        model.ObservedPostgres(),
        (steps.CreateRole(ROLE, "pw", 20, MARK), steps.CreateDatabase(DB, ROLE, MARK), steps.RevokePublicConnect(DB)),
    ),
    "in-sync-plans-nothing": PgCase(IN_SYNC, ()),
    "role-dropped-by-hand": PgCase(
        observed(role_exists=False, role_marker=None), (steps.CreateRole(ROLE, "pw", 20, MARK),)
    ),
    "password-changed-by-hand": PgCase(observed(password_matches=False), (steps.SetRolePassword(ROLE, "pw"),)),
    "password-unknown-is-left-alone": PgCase(observed(password_matches=None), ()),
    "rotation-sets-the-new-password": PgCase(IN_SYNC, (steps.SetRolePassword(ROLE, "pw"),), new_password=True),
    "role-made-superuser": PgCase(observed(role_is_privileged=True), (steps.ConfigureRole(ROLE, 20, MARK),)),
    "connect-granted-to-public-again": PgCase(observed(public_can_connect=True), (steps.RevokePublicConnect(DB),)),
    "database-given-away": PgCase(observed(database_owner="postgres"), (steps.SetDatabaseOwner(DB, ROLE),)),
    "database-created-but-not-marked": PgCase(observed(database_marker=None), (steps.MarkDatabase(DB, MARK),)),
    "database-dropped-by-hand": PgCase(
        observed(database_exists=False, database_owner=None, database_marker=None),
        (steps.CreateDatabase(DB, ROLE, MARK), steps.RevokePublicConnect(DB)),
    ),
}


@pytest.mark.parametrize("case", PG_CASES.values(), ids=PG_CASES.keys())
def test_postgres_plan_repairs_exactly_the_drift(case: PgCase) -> None:
    assert planning.plan_postgres(PG, case.observed, password="pw", new_password=case.new_password) == case.want


CONFLICTS = {
    "absent-is-fine": (model.ObservedPostgres(), None),
    "ours-is-fine": (IN_SYNC, None),
    "role-of-another-resource": (observed(role_marker="blacktop:team-a/other"), "managed resource team-a/other"),
    "role-made-by-hand": (observed(role_marker=None), "someone outside blacktop"),
    "database-of-someone-else": (
        observed(database_marker=None, database_owner="postgres"),
        "database 'team_a__db' already exists",
    ),
    "unmarked-database-owned-by-our-role": (observed(database_marker=None), None),
}


@pytest.mark.parametrize(("state", "want"), CONFLICTS.values(), ids=CONFLICTS.keys())
def test_postgres_never_adopts_objects_of_others(state: model.ObservedPostgres, want: str | None) -> None:
    found = planning.ownership_conflict_postgres(PG, state)
    assert (found is None) == (want is None)
    if want is not None:
        assert found is not None and want in found
        assert planning.plan_postgres_deletion(PG, state) == (), "deletion leaves other people's objects alone"


def test_postgres_deletion_drops_database_before_role() -> None:
    assert planning.plan_postgres_deletion(PG, IN_SYNC) == (steps.DropDatabase(DB), steps.DropRole(ROLE))
    assert planning.plan_postgres_deletion(PG, model.ObservedPostgres()) == ()


MY = model.parse_mysql(
    {"apiVersion": model.API_VERSION, "kind": "MySQLDatabase", "metadata": {"name": "db", "namespace": "team-a"}}
)
MY_SYNC = model.ObservedMySQL(
    user_exists=True, password_matches=True, database_exists=True, has_database_grant=True,
    global_privileges=("USAGE",),
)  # fmt: skip
MY_CASES = {
    "nothing-exists": (
        model.ObservedMySQL(),
        (
            steps.CreateMySQLUser(ROLE, "pw"),
            steps.CreateMySQLDatabase(DB, "utf8mb4"),
            steps.GrantMySQLDatabase(DB, ROLE),
        ),
    ),
    "in-sync": (MY_SYNC, ()),
    "grant-revoked-by-hand": (
        model.ObservedMySQL(user_exists=True, password_matches=True, database_exists=True),
        (steps.GrantMySQLDatabase(DB, ROLE),),
    ),
    "extra-grants-elsewhere": (
        model.ObservedMySQL(
            user_exists=True,
            password_matches=True,
            database_exists=True,
            has_database_grant=True,
            global_privileges=("SELECT",),
            other_databases=("team_b__db",),
        ),
        (steps.RevokeMySQLElsewhere(ROLE, True, ("team_b__db",)),),
    ),
    "password-changed": (
        model.ObservedMySQL(user_exists=True, password_matches=False, database_exists=True, has_database_grant=True),
        (steps.SetMySQLPassword(ROLE, "pw"),),
    ),
}


@pytest.mark.parametrize(("state", "want"), MY_CASES.values(), ids=MY_CASES.keys())
def test_mysql_plan_grants_on_its_database_only(state: model.ObservedMySQL, want: tuple[steps.MySQLStep, ...]) -> None:
    assert planning.plan_mysql(MY, state, password="pw", new_password=False) == want


RD = model.parse_redis_user(
    {"apiVersion": model.API_VERSION, "kind": "RedisUser", "metadata": {"name": "cache", "namespace": "team-a"}}
)
RD_SYNC = model.ObservedRedisUser(
    exists=True, enabled=True, password_matches=True, only_password=True, keys="~team-a:cache:*",
    channels="&team-a:cache:*", commands_match=True,
)  # fmt: skip
RESET = (steps.SetRedisUser("team-a.cache", "pw", planning.redis_rules(RD)),)


@pytest.mark.parametrize(
    "change",
    [{"enabled": False}, {"password_matches": False}, {"only_password": False}, {"keys": "~*"},
     {"channels": "&*"}, {"commands_match": False}],
    ids=["disabled", "password", "extra-password", "all-keys", "all-channels", "commands"],
)  # fmt: skip
def test_redis_user_is_redefined_on_any_drift(change: dict[str, object]) -> None:
    values = {f: getattr(RD_SYNC, f) for f in RD_SYNC.__dataclass_fields__} | change
    state = model.ObservedRedisUser(**values)
    assert planning.plan_redis(RD, state, password="pw", new_password=False) == RESET
    assert planning.plan_redis(RD, RD_SYNC, password="pw", new_password=False) == ()
    assert planning.plan_redis(RD, model.ObservedRedisUser(), password="pw", new_password=False) == RESET


def test_redis_rules_keep_the_user_to_its_prefix_and_out_of_dangerous_commands() -> None:
    rules = planning.redis_rules(RD)
    assert rules[:2] == ("~team-a:cache:*", "&team-a:cache:*")
    assert rules[2] == "-@all" and {"-@dangerous", "-@admin", "-@scripting"} <= set(rules)


PASSWORDS = {
    "none-stored": ({"stored": None}, True),
    "stored-and-current": ({"stored": "x"}, False),
    "rotation-requested": ({"stored": "x", "rotate_token": "2026-11-26"}, True),
    "rotation-already-done": ({"stored": "x", "rotate_token": "t1", "rotated_for": "t1"}, False),
    "cadence-due": ({"stored": "x", "cadence": timedelta(days=90), "changed_at": NOW - timedelta(days=91)}, True),
    "cadence-not-due": ({"stored": "x", "cadence": timedelta(days=90), "changed_at": NOW - timedelta(days=1)}, False),
}


@pytest.mark.parametrize(("given", "want"), PASSWORDS.values(), ids=PASSWORDS.keys())
def test_password_is_generated_only_when_needed(given: dict[str, object], want: bool) -> None:
    args: dict[str, object] = {"stored": None, "rotate_token": None, "rotated_for": None, "cadence": None,
                               "changed_at": None, "now": NOW} | given  # fmt: skip
    assert planning.decide_password(**args).rotate is want  # type: ignore[arg-type]


def test_connection_details_quote_credentials_in_the_uri() -> None:
    details = planning.connection_details(
        endpoint=model.Endpoint("/tmp/pg sock", 5432), username="u", password="p@ss", database="d", scheme="postgresql"
    )
    assert details["uri"] == "postgresql://u:p%40ss@%2Ftmp%2Fpg%20sock:5432/d"
    assert {k: details[k] for k in ("username", "password", "host", "port", "database")} == {
        "username": "u", "password": "p@ss", "host": "/tmp/pg sock", "port": "5432", "database": "d",
    }  # fmt: skip


@pytest.mark.parametrize(("attempt", "want"), [(0, 1), (1, 2), (3, 8), (10, 60), (200, 60)])
def test_retry_delay_doubles_up_to_the_cap(attempt: int, want: float) -> None:
    delay = planning.exponential_delay(attempt, base=timedelta(seconds=1), cap=timedelta(seconds=60))
    assert delay == timedelta(seconds=want)
