"""Parsing local managed resources: defaults carry the namespace, every problem is reported with its path.

Test design notes: the property test checks the two things the default names must guarantee on a
shared server, whatever the namespace and name: they fit the server's identifier limit, and they
start with the team's prefix (so explicit names of another team can never reach them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.errors import InputError
from blacktop.resources.providers import model


def resource(kind: str, *, namespace: str = "orders-team", name: str = "orders-db", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": model.API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "uid": "uid-1"},
        "spec": spec,
    }


def test_postgres_defaults_are_namespaced_names_and_secret_next_to_the_resource() -> None:
    spec = model.parse_postgres(resource("PostgresDatabase"))
    assert (spec.database, spec.role, spec.connection_limit) == ("orders_team__orders_db", "orders_team__orders_db", -1)
    assert spec.common.secret_ref == model.SecretRef("orders-team", "orders-db")
    assert spec.common.deletion_policy is model.DeletionPolicy.DELETE
    assert spec.common.marker == "blacktop:orders-team/orders-db"


def test_redis_defaults_confine_the_user_to_the_namespace_prefix() -> None:
    spec = model.parse_redis_user(resource("RedisUser"))
    assert (spec.user, spec.key_prefix) == ("orders-team.orders-db", "orders-team:orders-db:")


@dataclass
class Case:
    kind: str
    spec: dict[str, Any]
    want_paths: list[str] = field(default_factory=list)


CASES = {
    "pg-explicit-names-in-team-prefix": Case(
        "PostgresDatabase", {"forProvider": {"databaseName": "orders_team__main", "roleName": "orders_team__app"}}
    ),
    "pg-name-of-another-team": Case(
        "PostgresDatabase", {"forProvider": {"databaseName": "payments__main"}}, ["spec.forProvider.databaseName"]
    ),
    "pg-not-an-identifier-and-bad-limit": Case(
        "PostgresDatabase",
        {"forProvider": {"roleName": "Orders Team", "connectionLimit": -5}},
        ["spec.forProvider.roleName", "spec.forProvider.connectionLimit"],
    ),
    "secret-in-another-namespace-and-bad-policy": Case(
        "PostgresDatabase",
        {"writeConnectionSecretToRef": {"name": "x", "namespace": "payments"}, "deletionPolicy": "Keep"},
        ["spec.writeConnectionSecretToRef.namespace", "spec.deletionPolicy"],
    ),
    "mysql-user-too-long": Case(
        "MySQLDatabase", {"forProvider": {"username": "orders_team__" + "u" * 40}}, ["spec.forProvider.username"]
    ),
    "mysql-bad-charset": Case(
        "MySQLDatabase", {"forProvider": {"characterSet": "utf8; DROP"}}, ["spec.forProvider.characterSet"]
    ),
    "redis-prefix-of-another-team": Case(
        "RedisUser", {"forProvider": {"keyPrefix": "payments:"}}, ["spec.forProvider.keyPrefix"]
    ),
    "redis-prefix-without-colon-and-foreign-user": Case(
        "RedisUser",
        {"forProvider": {"keyPrefix": "orders-team:cache", "username": "payments.app"}},
        ["spec.forProvider.username", "spec.forProvider.keyPrefix"],
    ),
    "rotation-policy-not-a-string": Case(
        "RedisUser", {"forProvider": {"passwordRotationPolicy": 7}}, ["spec.forProvider.passwordRotationPolicy"]
    ),
}
PARSERS = {
    "PostgresDatabase": model.parse_postgres,
    "MySQLDatabase": model.parse_mysql,
    "RedisUser": model.parse_redis_user,
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_parsing_reports_every_problem_path(case: Case) -> None:
    parse = PARSERS[case.kind]
    if not case.want_paths:
        parse(resource(case.kind, **case.spec))
        return
    with pytest.raises(InputError) as raised:
        parse(resource(case.kind, **case.spec))
    assert [p.path for p in raised.value.problems] == case.want_paths
    assert "orders-team/orders-db" in str(raised.value)


dns_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True)


@given(namespace=dns_label, name=dns_label, limit=st.sampled_from([32, 63, 64]))
def test_default_identifiers_fit_the_server_and_carry_the_team_prefix(namespace: str, name: str, limit: int) -> None:
    ident = model.default_identifier(namespace, name, limit=limit)
    assert len(ident) <= limit
    prefix = model.team_prefix(namespace)
    if len(prefix) + 9 < limit:
        assert ident.startswith(prefix)


@given(a=st.tuples(dns_label, dns_label), b=st.tuples(dns_label, dns_label))
def test_different_resources_get_different_default_names(a: tuple[str, str], b: tuple[str, str]) -> None:
    # A namespace holding "--" can mimic the separator; see model.team_prefix.
    if a == b or "--" in a[0] + b[0]:
        return
    assert model.default_identifier(*a, limit=63) != model.default_identifier(*b, limit=63)
