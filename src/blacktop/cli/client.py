"""The CLI's HTTP client: where the server is, which token to send, and error translation.

The server URL and token come from, in order: flags, ``BLACKTOP_SERVER``/``BLACKTOP_TOKEN``,
the config file (``BLACKTOP_CONFIG`` or ``~/.config/blacktop/config.yaml``, written by
``blacktop login``), and finally the bootstrap token a local ``blacktop up`` wrote under
``./.blacktop``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from blacktop.kernel.errors import (
    BlacktopError,
    ConflictError,
    InputError,
    NotAllowedError,
    NotFoundError,
    Problem,
    TooLargeError,
    UnauthenticatedError,
    UnavailableError,
)

DEFAULT_SERVER = "http://127.0.0.1:7007"


def config_path() -> Path:
    """Where ``blacktop login`` keeps the server and token."""
    explicit = os.environ.get("BLACKTOP_CONFIG")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "blacktop" / "config.yaml"


@dataclass(frozen=True)
class Connection:
    """A resolved server URL and token."""

    server: str
    token: str | None


def resolve_connection(server: str | None, token: str | None, data_dir: Path = Path(".blacktop")) -> Connection:
    """Find the server and token from flags, environment, config file or a local bootstrap token."""
    config: dict[str, Any] = {}
    path = config_path()
    if path.is_file():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        config = loaded if isinstance(loaded, dict) else {}
    server = server or os.environ.get("BLACKTOP_SERVER") or config.get("server") or DEFAULT_SERVER
    token = token or os.environ.get("BLACKTOP_TOKEN") or config.get("token")
    if not token:
        local = data_dir / "bootstrap-token"
        if local.is_file():
            token = local.read_text(encoding="utf-8").strip()
    return Connection(server=str(server).rstrip("/"), token=token)


_ERRORS: dict[int, type[BlacktopError]] = {
    401: UnauthenticatedError,
    403: NotAllowedError,
    404: NotFoundError,
    409: ConflictError,
    413: TooLargeError,
    422: InputError,
    400: InputError,
    503: UnavailableError,
}


class PlatformClient:
    """Talks to a blacktop server; raises blacktop errors rebuilt from the server's error bodies."""

    def __init__(self, connection: Connection, *, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {connection.token}"} if connection.token else {}
        self.connection = connection
        self._http = httpx.Client(base_url=connection.server, headers=headers, timeout=timeout)
        self._kinds: list[dict[str, Any]] | None = None

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return its JSON body (or text), raising blacktop errors for 4xx/5xx."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise UnavailableError(
                f"cannot reach the blacktop server at {self.connection.server} ({exc.__class__.__name__}); "
                "is `blacktop up` running, or set --server / BLACKTOP_SERVER"
            ) from exc
        if response.status_code >= 400:
            raise _error_from(response)
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text

    def kinds(self) -> list[dict[str, Any]]:
        """The kinds the server serves (fetched once per client)."""
        if self._kinds is None:
            self._kinds = list(self.request("GET", "/api/v1/platform/kinds")["kinds"])
        return self._kinds

    def resolve_kind(self, text: str) -> dict[str, Any]:
        """Resolve ``databases``, ``database``, ``Database``, a short name or ``plural.group``."""
        name, _, group = text.partition(".")
        lowered = name.lower()
        for kind in self.kinds():
            if group and kind["group"] != group:
                continue
            names = {kind["name"], kind["singularName"], kind["kind"].lower(), *kind["shortNames"]}
            if lowered in names:
                return kind
        import difflib

        known = sorted({k["name"] for k in self.kinds()})
        close = difflib.get_close_matches(lowered, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `blacktop kinds` lists them"
        raise NotFoundError(f"the server has no kind {text!r}{hint}")


def collection_path(kind: dict[str, Any], namespace: str | None) -> str:
    """The collection URL of a kind, in a namespace or across all of them."""
    version = kind["versions"][0]
    # The core group ("") lives under /api/<version>, as in Kubernetes (namespaced paths only).
    base = f"/apis/{kind['group']}/{version}" if kind["group"] else f"/api/{version}"
    if kind["namespaced"] and namespace:
        return f"{base}/namespaces/{namespace}/{kind['name']}"
    return f"{base}/{kind['name']}"


def object_path(kind: dict[str, Any], namespace: str | None, name: str) -> str:
    """The URL of one object."""
    return f"{collection_path(kind, namespace or ('default' if kind['namespaced'] else None))}/{name}"


def _error_from(response: httpx.Response) -> BlacktopError:
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text[:500]}
    message = str(body.get("message") or f"the server answered {response.status_code}")
    problems = [
        Problem(
            path=str(p.get("path", "")),
            message=str(p.get("message", "")),
            document=p.get("document"),
            line=p.get("line"),
        )
        for p in body.get("problems") or []
    ]
    error_type = _ERRORS.get(response.status_code)
    if error_type is None:
        return BlacktopError(f"{message} (HTTP {response.status_code})")
    if issubclass(error_type, InputError):
        return error_type(message, problems=problems)
    return error_type(message)
