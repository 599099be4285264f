"""Per-invocation state shared by CLI commands: the resolved client and the console."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console

from .client import PlatformClient, resolve_connection


@dataclass
class CliState:
    """Options given before the command, and the client built lazily from them."""

    server: str | None = None
    token: str | None = None
    data_dir: Path = Path(".blacktop")
    console: Console = field(default_factory=lambda: _console())
    _client: PlatformClient | None = None

    def client(self) -> PlatformClient:
        """The HTTP client, built on first use."""
        if self._client is None:
            self._client = PlatformClient(resolve_connection(self.server, self.token, self.data_dir))
        return self._client


def _console() -> Console:
    # Pipes and files get full-width tables instead of Rich's 80-column default.
    return Console(soft_wrap=True, width=None if sys.stdout.isatty() else 250)


def state_from(ctx: typer.Context) -> CliState:
    """The state object of the running invocation."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def client_from(ctx: typer.Context) -> PlatformClient:
    """The HTTP client of the running invocation."""
    return state_from(ctx).client()


def console_from(ctx: typer.Context) -> Console:
    """The console of the running invocation."""
    return state_from(ctx).console
