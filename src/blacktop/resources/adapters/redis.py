"""The local provider's Redis admin: ACL users through redis-py's asyncio client.

Redis rewrites the command rules it is given into its own normal form, which differs between
versions (6.2 keeps categories, 7 expands some into single commands). To tell whether a user's
commands drifted, the adapter defines a throwaway probe user with the safe rules once, remembers
how this server writes them, and compares every user with that.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from blacktop.resources.providers import errors, model, planning, steps


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return "" if value is None else str(value)


class RedisAclAdmin:
    """``ports.RedisAdmin`` over ``redis.asyncio``; ``admin_url`` is ``redis://[user:password@]host:port/0``
    or ``unix:///path/to/socket``."""

    def __init__(self, admin_url: str, *, connect_timeout: float = 3.0, public_host: str | None = None) -> None:
        self._client = aioredis.Redis.from_url(
            admin_url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=10,
            retry=Retry(NoBackoff(), 0),
        )
        kwargs = self._client.connection_pool.connection_kwargs
        if "path" in kwargs:
            host, port = str(kwargs["path"]), 0
        else:
            host, port = str(kwargs.get("host", "127.0.0.1")), int(kwargs.get("port", 6379))
        self._endpoint = model.Endpoint(public_host or host, port)
        self._where = f"Redis at {host}:{port}" if port else f"Redis at {host}"
        self._canonical_commands: str | None = None

    @property
    def endpoint(self) -> model.Endpoint:
        """Where tenants connect."""
        return self._endpoint

    async def close(self) -> None:
        """Close the admin connections."""
        await self._client.aclose()

    async def _call(self, *args: Any) -> Any:
        try:
            return await self._client.execute_command(*args)  # type: ignore[no-untyped-call]
        except RedisConnectionError:
            # Pooled connections die with a server restart although the server may be back: drop the
            # idle ones and send once more on a fresh connection (every command here is idempotent), so
            # only a server that stays away is reported unreachable.
            await self._client.connection_pool.disconnect(inuse_connections=False)
        try:
            return await self._client.execute_command(*args)  # type: ignore[no-untyped-call]
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise errors.ServerUnreachable(f"{self._where} did not answer: {exc}") from exc
        except RedisError as exc:
            raise errors.ServerRefused(f"{self._where} refused {args[0]} {args[1]}: {exc}") from exc

    async def _commands_normal_form(self) -> str:
        if self._canonical_commands is None:
            probe = f"blacktop-probe-{secrets.token_hex(6)}"
            await self._call("ACL", "SETUSER", probe, "reset", "resetchannels", "off", *planning.REDIS_COMMAND_RULES)
            try:
                found = await self._call("ACL", "GETUSER", probe)
            finally:
                await self._call("ACL", "DELUSER", probe)
            self._canonical_commands = _text(_field(found, "commands"))
        return self._canonical_commands

    async def observe(self, spec: model.RedisUserSpec, *, password: str | None) -> model.ObservedRedisUser:
        """``ACL GETUSER`` for the user, compared with the desired prefix, password and safe commands."""
        found = await self._call("ACL", "GETUSER", spec.user)
        if not found:
            return model.ObservedRedisUser()
        flags = {_text(f) for f in _field(found, "flags") or []}
        hashes = [_text(p) for p in _field(found, "passwords") or []]
        wanted = hashlib.sha256(password.encode()).hexdigest() if password is not None else None
        return model.ObservedRedisUser(
            exists=True,
            enabled="on" in flags,
            password_matches=wanted is not None and wanted in hashes,
            only_password=len(hashes) == 1 and "nopass" not in flags,
            keys=_patterns(_field(found, "keys"), "~"),
            channels=_patterns(_field(found, "channels"), "&"),
            commands_match=_text(_field(found, "commands")) == await self._commands_normal_form(),
        )

    async def apply(self, plan: Sequence[steps.RedisStep]) -> None:
        """Define or delete users."""
        for step in plan:
            match step:
                case steps.SetRedisUser(user=user, password=password, rules=rules):
                    await self._call("ACL", "SETUSER", user, "reset", "resetchannels", "on", f">{password}", *rules)
                case steps.DeleteRedisUser(user=user):
                    await self._call("ACL", "DELUSER", user)


def _patterns(value: Any, sigil: str) -> str:
    """Key or channel patterns as Redis 7 writes them (``~a:* ~b:*``); 6.2 returns a list without sigils."""
    if isinstance(value, list):
        return " ".join(p if p.startswith(sigil) else sigil + p for p in (_text(v) for v in value))
    return _text(value)


def _field(reply: Any, name: str) -> Any:
    """A field of an ``ACL GETUSER`` reply (a flat list in RESP2, a map in RESP3)."""
    if isinstance(reply, dict):
        return reply.get(name.encode(), reply.get(name))
    items = list(reply)
    for key, value in zip(items[::2], items[1::2], strict=True):
        if _text(key) == name:
            return value
    return None
