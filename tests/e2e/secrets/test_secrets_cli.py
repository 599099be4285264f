"""``blacktop secrets …`` against a live server: values only with --reveal, team isolation, rotation.

Test design: commands run in-process through ``run_app`` against a real HTTP server in a thread;
stdout and stderr are searched for the plaintext canary, and the audit trail is checked for the
``secret-reveal`` record that ``--reveal`` leaves.
"""

from __future__ import annotations

import time

import httpx
import pytest

from blacktop.bootstrap import serve
from blacktop.cli import build_app, run_app
from tests.fixtures.platform import LiveServer

CANARY = "PLAINTEXT-cli-canary-51d2"


def cli(
    server: LiveServer, capsys: pytest.CaptureFixture[str], *args: str, token: str | None = None
) -> tuple[int, str]:
    code = run_app(build_app(serve=serve), ["--server", server.url, "--token", token or server.token, *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _http(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"})


def _token(http: httpx.Client, user: str) -> str:
    # SqlTokenStore.add can hit SQLite's "database is locked" under concurrent controller writes; retry.
    for _ in range(30):
        response = http.post("/api/v1/tenancy/tokens", json={"user": user})
        if response.status_code != 503:
            break
        time.sleep(0.1)
    return str(response.json()["token"])


def test_put_get_list_versions_and_reveal_is_audited(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(live_server, capsys, "secrets", "put", "payments/db", f"password={CANARY}-1", "user=pay")[0] == 0
    code, out = cli(
        live_server, capsys, "secrets", "put", "payments/db", f"password={CANARY}-2", "user=pay", "--cas", "1"
    )
    assert (code, out.strip()) == (0, "secret payments/db version 2 written")
    outputs = [
        cli(live_server, capsys, "secrets", "get", "payments/db"),
        cli(live_server, capsys, "secrets", "get", "payments/db", "-o", "json"),
        cli(live_server, capsys, "secrets", "list"),
        cli(live_server, capsys, "secrets", "versions", "payments/db"),
    ]
    for code, out in outputs:
        assert code == 0, out
        assert CANARY not in out
    assert "<hidden: use --reveal>" in outputs[0][1] and "password" in outputs[0][1]
    assert outputs[2][1].strip() == "secret/data/payments/db"
    code, out = cli(live_server, capsys, "secrets", "get", "payments/db", "--reveal", "--version", "1")
    assert code == 0 and f"{CANARY}-1" in out
    with _http(live_server) as http:
        items = http.get("/api/v1/audit/records", params={"limit": 1000}).json()["items"]
    reveals = [r for r in items if r["verb"] == "secret-reveal"]
    assert [(r["actor"], r["name"], r["message"]) for r in reveals] == [
        ("user:admin", "secret/data/payments/db", "version 1")
    ]
    assert CANARY not in str(items)


def test_delete_undelete_destroy_rotate_and_rotate_kek(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    for value in ("a", "b"):
        assert cli(live_server, capsys, "secrets", "put", "payments/token", f"token={value}")[0] == 0
    assert cli(live_server, capsys, "secrets", "delete", "payments/token")[0] == 0
    code, out = cli(live_server, capsys, "secrets", "get", "payments/token")
    assert code == 1 and "version 2 is deleted; undelete it" in out
    assert cli(live_server, capsys, "secrets", "undelete", "payments/token", "--versions", "2")[0] == 0
    assert cli(live_server, capsys, "secrets", "destroy", "payments/token", "--versions", "1")[0] == 0
    code, out = cli(live_server, capsys, "secrets", "versions", "payments/token")
    assert code == 0 and "destroyed" in out and "current" in out
    code, out = cli(live_server, capsys, "secrets", "rotate", "payments/token", "--key", "token", "--length", "40")
    assert (code, out.strip()) == (0, "secret payments/token: token rotated, version 3 is current")
    code, out = cli(live_server, capsys, "secrets", "get", "payments/token", "--reveal", "-o", "json")
    assert code == 0 and '"token"' in out
    code, out = cli(live_server, capsys, "secrets", "rotate-kek")
    assert code == 0 and "KEK kek-2 is current" in out and "2 data key(s) re-wrapped" in out
    assert cli(live_server, capsys, "secrets", "get", "payments/token", "--reveal", "--version", "2")[0] == 0


def test_team_a_cannot_touch_team_b_through_the_cli(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with _http(live_server) as http:
        for team, user in (("payments", "alice"), ("orders", "bob")):
            http.post("/apis/tenancy.blacktop.dev/v1alpha1/groups", json={
                "apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "Group",
                "metadata": {"name": f"{team}-team"}, "spec": {"members": [user]}}).raise_for_status()  # fmt: skip
            subjects = [{"kind": "Group", "name": f"{team}-team"}]
            binding = {"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "RoleBinding",
                       "metadata": {"name": "devs"}, "spec": {"role": "developer", "subjects": subjects}}  # fmt: skip
            where = f"/apis/tenancy.blacktop.dev/v1alpha1/namespaces/{team}/rolebindings"
            http.post(where, json=binding).raise_for_status()
        http.post("/api/v1/secrets/data/orders/db", json={"data": {"password": CANARY}}).raise_for_status()
        alice = _token(http, "alice")
    assert cli(live_server, capsys, "secrets", "put", "payments/db", "password=ok", token=alice)[0] == 0
    for args in (
        ("secrets", "get", "orders/db", "--reveal"),
        ("secrets", "get", "orders/db"),
        ("secrets", "put", "orders/db", "password=mine"),
        ("secrets", "destroy", "orders/db", "--versions", "1"),
        ("secrets", "rotate-kek"),
    ):
        code, out = cli(live_server, capsys, *args, token=alice)
        assert code == 1, (args, out)
        assert "user:alice may not" in out and CANARY not in out
    code, out = cli(live_server, capsys, "secrets", "list", token=alice)
    assert (code, out.strip()) == (0, "secret/data/payments/db")
