"""Liveness, readiness and request ids."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SETTINGS


def test_healthz_is_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_after_start(client: TestClient) -> None:
    response = client.get("/readyz")
    assert (response.status_code, response.json()["status"]) == (200, "ready")


def test_readyz_is_not_ready_before_start() -> None:
    client = TestClient(create_app(SETTINGS))  # no `with`: the lifespan has not run
    assert client.get("/readyz").status_code == 503


async def _passing() -> bool:
    return True


async def _failing() -> bool:
    return False


async def _raising() -> bool:
    raise ConnectionError("database down")


@pytest.mark.parametrize(
    ("checks", "want_status"),
    [
        pytest.param({"db": _passing}, 200, id="check-passes"),
        pytest.param({"db": _passing, "queue": _failing}, 503, id="one-check-fails"),
        pytest.param({"db": _raising}, 503, id="check-raises"),
    ],
)
def test_readyz_runs_readiness_checks(checks: dict, want_status: int) -> None:
    with TestClient(create_app(SETTINGS, readiness_checks=checks)) as client:
        response = client.get("/readyz")
    assert response.status_code == want_status
    assert set(response.json()["checks"]) == set(checks)


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        pytest.param("req-123", True, id="valid-id-kept"),
        pytest.param("", False, id="missing-id-generated"),
        pytest.param("not a valid id!", False, id="invalid-id-replaced"),
    ],
)
def test_request_id_header(client: TestClient, incoming: str, kept: bool) -> None:
    response = client.get("/", headers={"X-Request-ID": incoming} if incoming else {})
    echoed = response.headers["X-Request-ID"]
    assert (echoed == incoming) is kept
    if not kept:
        assert len(echoed) == 32


def test_index_names_the_service(client: TestClient) -> None:
    assert client.get("/").json()["service"] == "${{ values.serviceName }}"
