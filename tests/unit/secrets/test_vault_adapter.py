"""The hvac-based Vault reader against a fake Vault at the HTTP edge (no Vault server runs here).

Test design: a ``requests`` transport adapter answers like Vault's documented KV v2, AppRole and
token endpoints and records what it was asked, so the adapter's paths, versions, headers and auth
flow are checked without a socket. This proves the adapter speaks the documented protocol; it is
not a test against a real Vault.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from blacktop.kernel.errors import UnavailableError
from blacktop.secrets import errors, eso, syncing
from blacktop.secrets.adapters.vault import VaultCredentials, VaultStoreReader, auth_method, relative_key

DATA = {
    "payments/db": {1: {"password": "old"}, 2: {"password": "new", "user": "pay"}},
    "payments/sub/api": {1: {"k": "v"}},
}


class FakeVault(BaseAdapter):
    """Vault's HTTP API for one KV v2 mount ``secret`` and AppRole login."""

    def __init__(self, *, token: str = "s.root", forbidden: bool = False) -> None:
        super().__init__()
        self.token = token
        self.forbidden = forbidden
        self.calls: list[tuple[str, str, str | None]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(str(request.url))
        path = url.path
        token = request.headers.get("X-Vault-Token")
        where = path + (f"?{url.query}" if url.query else "")
        self.calls.append((str(request.method), where, None if token is None else str(token)))
        if path == "/v1/auth/approle/login":
            body = json.loads(request.body or b"{}")  # type: ignore[arg-type]
            if (body.get("role_id"), body.get("secret_id")) != ("role-1", "secret-1"):
                return self._reply(request, 400, {"errors": ["invalid role or secret ID"]})
            return self._reply(request, 200, {"auth": {"client_token": "s.approle"}})
        if request.headers.get("X-Vault-Token") != self.token or self.forbidden:
            return self._reply(request, 403, {"errors": ["permission denied"]})
        if path.startswith("/v1/secret/data/"):
            versions = DATA.get(path.removeprefix("/v1/secret/data/"))
            if versions is None:
                return self._reply(request, 404, {"errors": []})
            wanted = int(url.query.split("=")[1]) if url.query.startswith("version=") else max(versions)
            return self._reply(request, 200, {"data": {"data": versions[wanted], "metadata": {"version": wanted}}})
        if path.startswith("/v1/secret/metadata/") and request.method == "LIST":
            folder = path.removeprefix("/v1/secret/metadata/").strip("/")
            keys = sorted({k[len(folder) + 1 :].split("/")[0] + ("/" if "/" in k[len(folder) + 1 :] else "")
                           for k in DATA if k.startswith(folder + "/")})  # fmt: skip
            return self._reply(request, 200 if keys else 404, {"data": {"keys": keys}})
        return self._reply(request, 404, {"errors": []})

    def _reply(self, request: requests.PreparedRequest, status: int, body: dict[str, Any]) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = str(request.url)
        return response

    def close(self) -> None:
        return None


def session_with(fake: FakeVault) -> requests.Session:
    session = requests.Session()
    session.mount("http://vault.test", fake)
    return session


PROVIDER = eso.VaultProvider(server="http://vault.test", path="secret", version="v2", auth={"tokenSecretRef": {}})


async def test_token_auth_reads_latest_and_pinned_versions_with_or_without_mount_prefix() -> None:
    fake = FakeVault()
    reader = VaultStoreReader(PROVIDER, VaultCredentials(token="s.root"), session=session_with(fake))
    plan = syncing.FetchPlan(
        keys=(syncing.RemoteKey("secret/data/payments/db"), syncing.RemoteKey("payments/db", "1"),
              syncing.RemoteKey("payments/missing")),
    )  # fmt: skip
    fetched = await reader.fetch(plan)
    assert fetched.secrets == {
        syncing.RemoteKey("secret/data/payments/db"): {"password": "new", "user": "pay"},
        syncing.RemoteKey("payments/db", "1"): {"password": "old"},
    }
    assert [c[1] for c in fake.calls] == [
        "/v1/secret/data/payments/db", "/v1/secret/data/payments/db?version=1", "/v1/secret/data/payments/missing",
    ]  # fmt: skip
    assert {c[2] for c in fake.calls} == {"s.root"}


async def test_approle_logs_in_then_uses_the_client_token() -> None:
    fake = FakeVault(token="s.approle")
    provider = PROVIDER.model_copy(update={"auth": {"appRole": {"path": "approle", "roleId": "role-1"}}})
    reader = VaultStoreReader(
        provider, VaultCredentials(role_id="role-1", secret_id="secret-1"), session=session_with(fake)
    )
    fetched = await reader.fetch(syncing.FetchPlan(keys=(syncing.RemoteKey("payments/db"),)))
    assert fetched.secrets[syncing.RemoteKey("payments/db")]["user"] == "pay"
    assert fake.calls[0][:2] == ("POST", "/v1/auth/approle/login")
    assert fake.calls[1][2] == "s.approle"


async def test_find_lists_recursively_and_filters_by_name() -> None:
    reader = VaultStoreReader(PROVIDER, VaultCredentials(token="s.root"), session=session_with(FakeVault()))
    query = syncing.FindQuery(path="payments", name_regexp="api$")
    fetched = await reader.fetch(syncing.FetchPlan(finds=(query,)))
    assert fetched.found[query] == {"payments/sub/api": {"k": "v"}}


async def test_permission_denied_is_a_sync_error_and_a_dead_server_is_unavailable() -> None:
    denied = VaultStoreReader(
        PROVIDER, VaultCredentials(token="s.root"), session=session_with(FakeVault(forbidden=True))
    )
    with pytest.raises(errors.SyncError, match="permission denied"):
        await denied.fetch(syncing.FetchPlan(keys=(syncing.RemoteKey("payments/db"),)))
    broken = FakeVault()
    broken.send = _refuse  # type: ignore[method-assign]
    with pytest.raises(UnavailableError, match="cannot reach Vault"):
        await VaultStoreReader(PROVIDER, VaultCredentials(token="s.root"), session=session_with(broken)).fetch(
            syncing.FetchPlan(keys=(syncing.RemoteKey("payments/db"),))
        )


def _refuse(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
    raise requests.ConnectionError("connection refused")


AUTH_CASES = {
    "token": ({"tokenSecretRef": {"name": "t"}}, "token"),
    "approle": ({"appRole": {"roleId": "r"}}, "appRole"),
}


@pytest.mark.parametrize(("auth", "method"), AUTH_CASES.values(), ids=AUTH_CASES.keys())
def test_supported_auth_methods(auth: dict[str, Any], method: str) -> None:
    assert auth_method(eso.VaultProvider(server="http://v", auth=auth)) == method


def test_other_auth_methods_are_refused_by_name() -> None:
    with pytest.raises(errors.UnsupportedProviderError, match="'kubernetes' is not supported"):
        auth_method(eso.VaultProvider(server="http://v", auth={"kubernetes": {"role": "x"}}))


KEY_CASES = {
    "mount-and-data": ("secret/data/payments/db", "payments/db"),
    "mount-only": ("secret/payments/db", "payments/db"),
    "relative": ("payments/db", "payments/db"),
}


@pytest.mark.parametrize(("key", "relative"), KEY_CASES.values(), ids=KEY_CASES.keys())
def test_relative_keys(key: str, relative: str) -> None:
    assert relative_key(PROVIDER, key) == relative
