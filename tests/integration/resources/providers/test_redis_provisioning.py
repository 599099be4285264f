"""The local provider on a real Redis: an ACL user confined to its key prefix and to safe commands.

Test design notes: the user authenticates with the generated password, works under its prefix,
and is refused keys and channels of another prefix, and administrative or dangerous commands
(FLUSHALL, KEYS, CONFIG, EVAL). After deletion the credentials no longer authenticate. A user
deleted, given another password or disabled by hand is back on the next reconcile, with the
password the connection secret holds and still confined to its prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.adapters.redis import RedisAclAdmin
from blacktop.resources.providers import model

from .conftest import managed, provider_for, team

pytestmark = pytest.mark.redis
NOW = datetime.now(UTC)
KIND = "RedisUser"


def tenant(admin_url: str, secret: dict[str, str]) -> redis.Redis:
    return redis.Redis.from_url(admin_url, username=secret["username"], password=secret["password"])


async def test_user_is_confined_to_its_prefix_and_to_safe_commands(
    redis_admin: RedisAclAdmin, sink: InMemoryConnectionSecretSink, redis_admin_url: str
) -> None:
    provider = provider_for(sink, redis=redis_admin)
    a, b = managed(KIND, team(), "cache"), managed(KIND, team(), "cache")
    admin = redis.Redis.from_url(redis_admin_url)
    try:
        for obj in (a, b):
            outcome = await provider.reconcile(KIND, obj, now=NOW)
            assert outcome.ready, outcome.message
            obj["status"] = {"atProvider": dict(outcome.at_provider)}
        secret_a: dict[str, Any] = dict(sink.secrets[model.SecretRef(a["metadata"]["namespace"], "cache-conn")])
        secret_b: dict[str, Any] = dict(sink.secrets[model.SecretRef(b["metadata"]["namespace"], "cache-conn")])
        prefix_a, prefix_b = secret_a["keyPrefix"], secret_b["keyPrefix"]
        admin.set(prefix_b + "token", "team-b only")

        client = tenant(redis_admin_url, secret_a)
        client.set(prefix_a + "k", "v")
        assert client.get(prefix_a + "k") == b"v"
        assert client.incr(prefix_a + "n") == 1
        for refused in (
            lambda: client.get(prefix_b + "token"),
            lambda: client.set(prefix_b + "token", "stolen"),
            lambda: client.get("unprefixed"),
            lambda: client.publish(prefix_b + "events", "x"),
            lambda: client.flushall(),
            lambda: client.keys("*"),
            lambda: client.config_get("*"),
            lambda: client.eval("return 1", 0),
            lambda: client.acl_list(),
        ):
            with pytest.raises(redis.exceptions.NoPermissionError):
                refused()
        assert admin.get(prefix_b + "token") == b"team-b only"

        second = await provider.reconcile(KIND, a, now=NOW)
        assert second.ready
        admin.acl_setuser(secret_a["username"], enabled=True, keys=["*"], commands=["+@all"])
        assert tenant(redis_admin_url, secret_a).get(prefix_b + "token") == b"team-b only", "widened by hand"
        await provider.reconcile(KIND, a, now=NOW)
        with pytest.raises(redis.exceptions.NoPermissionError):
            tenant(redis_admin_url, secret_a).get(prefix_b + "token")
        client.close()

        assert (await provider.finalize(KIND, a)).finished
        with pytest.raises(redis.exceptions.AuthenticationError):
            tenant(redis_admin_url, secret_a).ping()
    finally:
        await provider.finalize(KIND, a)
        await provider.finalize(KIND, b)
        for obj in (a, b):
            keys = list(admin.scan_iter(f"{obj['metadata']['namespace']}:*"))
            if keys:
                admin.delete(*keys)
        admin.close()


DRIFT_BY_HAND: dict[str, Callable[[redis.Redis, str], Any]] = {
    "user-deleted": lambda admin, user: admin.acl_deluser(user),
    "password-reset": lambda admin, user: admin.acl_setuser(user, reset_passwords=True, passwords=["+set-by-hand"]),
    "disabled": lambda admin, user: admin.acl_setuser(user, enabled=False),
}


@pytest.mark.parametrize("drift", DRIFT_BY_HAND.values(), ids=DRIFT_BY_HAND.keys())
async def test_user_broken_by_hand_comes_back_on_resync(
    redis_admin: RedisAclAdmin,
    sink: InMemoryConnectionSecretSink,
    redis_admin_url: str,
    drift: Callable[[redis.Redis, str], Any],
) -> None:
    provider = provider_for(sink, redis=redis_admin)
    obj = managed(KIND, team(), "cache")
    admin = redis.Redis.from_url(redis_admin_url)
    try:
        outcome = await provider.reconcile(KIND, obj, now=NOW)
        assert outcome.ready, outcome.message
        obj["status"] = {"atProvider": dict(outcome.at_provider)}
        secret: dict[str, Any] = dict(sink.secrets[model.SecretRef(obj["metadata"]["namespace"], "cache-conn")])
        prefix = secret["keyPrefix"]
        tenant(redis_admin_url, secret).set(prefix + "k", "v")
        drift(admin, secret["username"])
        with pytest.raises(redis.exceptions.AuthenticationError):
            tenant(redis_admin_url, secret).ping()

        outcome = await provider.reconcile(KIND, obj, now=NOW)
        assert outcome.ready, outcome.message
        assert dict(sink.secrets[model.SecretRef(obj["metadata"]["namespace"], "cache-conn")]) == secret
        client = tenant(redis_admin_url, secret)
        assert client.get(prefix + "k") == b"v", "the user is back with the password the secret holds"
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("other:k")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.flushall()
        client.close()
    finally:
        await provider.finalize(KIND, obj)
        keys = list(admin.scan_iter(f"{obj['metadata']['namespace']}:*"))
        if keys:
            admin.delete(*keys)
        admin.close()
