"""The ``blacktop`` command line: kubectl habits over the platform API.

Errors are mapped here, once: an ``InputError`` exits with status 2 and lists every problem with
its file, line and field path; any other blacktop error exits with status 1 and its message.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from blacktop.kernel.errors import BlacktopError, InputError

from .commands import catalog, observability, platform, resources, resources_infra
from .commands import metrics as metrics_commands
from .commands import scaffolder as scaffolder_commands
from .commands import secrets as secrets_commands
from .state import CliState, state_from

ServeFunction = Callable[..., None]


def build_app(
    *, serve: ServeFunction | None = None, extra: list[Callable[[typer.Typer], None]] | None = None
) -> typer.Typer:
    """The Typer application; ``serve`` runs the platform for ``blacktop up``."""
    app = typer.Typer(
        name="blacktop",
        help="blacktop: an Internal Developer Platform. Start it with `blacktop up`.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @app.callback()
    def _options(
        ctx: typer.Context,
        server: Annotated[str | None, typer.Option(envvar="BLACKTOP_SERVER", help="API URL")] = None,
        token: Annotated[
            str | None, typer.Option(envvar="BLACKTOP_TOKEN", help="API token", show_default=False)
        ] = None,
        data_dir: Annotated[Path, typer.Option(help="local data folder (for the bootstrap token)")] = Path(".blacktop"),
    ) -> None:
        state = state_from(ctx)
        state.server, state.token, state.data_dir = server, token, data_dir

    if serve is not None:

        @app.command()
        def up(
            data_dir: Annotated[Path, typer.Option(help="where state lives")] = Path(".blacktop"),
            host: Annotated[str, typer.Option()] = "127.0.0.1",
            port: Annotated[int, typer.Option()] = 7007,
            demo: Annotated[bool, typer.Option(help="load the demo data set")] = False,
            database_url: Annotated[str | None, typer.Option(envvar="BLACKTOP_DATABASE_URL")] = None,
        ) -> None:
            """Run the whole platform in this process (API, controllers, embedded state store)."""
            serve(data_dir=data_dir, host=host, port=port, demo=demo, database_url=database_url)

    resources.register(app)
    platform.register(app)
    catalog.register(app)
    secrets_commands.register(app)
    observability.register(app)
    scaffolder_commands.register(app)
    resources_infra.register(app)
    metrics_commands.register(app)
    for register in extra or []:
        register(app)
    return app


def report_error(console: Console, exc: BlacktopError) -> int:
    """Print an error the way a person can act on it, and return the exit status."""
    console.print(f"error: {exc}", style="red", markup=False, highlight=False)
    for problem in getattr(exc, "problems", ()):
        console.print(f"  - {problem.describe()}", markup=False, highlight=False)
    return 2 if isinstance(exc, InputError) else 1


def run_app(app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run ``app`` with blacktop's error mapping; returns the exit status."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        # Without standalone mode, click returns a typer.Exit's code instead of raising it.
        result = app(args=argv, standalone_mode=False, obj=CliState())
    except BlacktopError as exc:
        return report_error(err, exc)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err.print("aborted")
        return 1
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return result if isinstance(result, int) else 0


def run() -> None:
    """Entry point without the server (for client-only installs)."""
    sys.exit(run_app(build_app()))
