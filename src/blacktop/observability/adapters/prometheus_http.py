"""``MetricsQuerier`` over Prometheus' HTTP API (``GET /api/v1/query``)."""

from __future__ import annotations

from typing import Any

import httpx

from blacktop.kernel.errors import InputError, Problem, UnavailableError

from .. import ports


class HttpPrometheus:
    """Instant queries against one Prometheus server."""

    def __init__(self, url: str, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._transport = transport

    async def fetch_instant(self, query: str) -> list[ports.Sample]:
        """The samples of ``query`` now; UnavailableError when Prometheus is unreachable or refuses."""
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
                response = await client.get(f"{self.url}/api/v1/query", params={"query": query})
        except httpx.HTTPError as exc:
            raise UnavailableError(
                f"Prometheus at {self.url} cannot be reached ({exc.__class__.__name__}); check the URL or start it"
            ) from exc
        body: Any = None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 400 and isinstance(body, dict):
            raise InputError(
                f"Prometheus at {self.url} refused the query {query!r}",
                problems=[Problem("query", str(body.get("error", ""))[:300])],
            )
        if response.status_code >= 400 or not isinstance(body, dict) or body.get("status") != "success":
            raise UnavailableError(f"Prometheus at {self.url} answered {response.status_code} to an instant query")
        return [_sample(item) for item in (body.get("data") or {}).get("result") or []]


def _sample(item: dict[str, Any]) -> ports.Sample:
    value = item.get("value") or [0, "NaN"]
    return ports.Sample(labels={str(k): str(v) for k, v in (item.get("metric") or {}).items()}, value=float(value[1]))
