"""``blacktop secrets …``: the encrypted secret store from the command line, over the platform API.

Values are printed only by ``get --reveal``, which the server audits as ``secret-reveal``; every
other command shows paths, key names and version metadata. ``put`` takes ``KEY=VALUE`` pairs,
``KEY=@file`` to read a value from a file, or ``KEY=-`` to read it from standard input, so values
need not appear in shell history.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from blacktop.kernel.errors import InputError, Problem

from .. import output
from ..state import client_from, console_from

secrets_app = typer.Typer(help="Manage secrets in the encrypted store (Vault KV v2 semantics).", no_args_is_help=True)

HIDDEN = "<hidden: use --reveal>"


def register(app: typer.Typer) -> None:
    """Add ``blacktop secrets`` to ``app``."""
    app.add_typer(secrets_app, name="secrets")


def _pairs(items: list[str]) -> dict[str, str]:
    data: dict[str, str] = {}
    problems: list[Problem] = []
    for index, item in enumerate(items):
        key, sep, value = item.partition("=")
        if not sep or not key:
            problems.append(Problem(path=f"args[{index}]", message="write KEY=VALUE, KEY=@file or KEY=-"))
            continue
        if value == "-":
            value = sys.stdin.read().rstrip("\n")
        elif value.startswith("@"):
            value = Path(value[1:]).read_text(encoding="utf-8").rstrip("\n")
        data[key] = value
    if problems or not data:
        raise InputError("secrets put needs at least one KEY=VALUE pair", problems=problems)
    return data


def _versions(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"versions {text!r} are not numbers", problems=[Problem(path="--versions", message="e.g. 1,2,5")]
        ) from None


def _print(ctx: typer.Context, data: Any, fmt: str | None) -> bool:
    if fmt in ("yaml", "json"):
        console_from(ctx).print(output.render(data, fmt), end="", markup=False, highlight=False)
        return True
    return False


@secrets_app.command("put")
def put(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="e.g. payments/database or secret/data/payments/database")],
    pairs: Annotated[list[str], typer.Argument(help="KEY=VALUE, KEY=@file or KEY=- (stdin)")],
    cas: Annotated[int | None, typer.Option(help="check-and-set: the version you expect to replace (0: new)")] = None,
) -> None:
    """Write a new version of a secret."""
    body: dict[str, Any] = {"data": _pairs(pairs)}
    if cas is not None:
        body["options"] = {"cas": cas}
    meta = client_from(ctx).request("POST", f"/api/v1/secrets/data/{path}", json=body)
    console_from(ctx).print(f"secret {path} version {meta['version']} written", markup=False, highlight=False)


@secrets_app.command("get")
def get(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument()],
    version: Annotated[int | None, typer.Option(help="a version number (default: latest)")] = None,
    reveal: Annotated[bool, typer.Option("--reveal", help="print the values (recorded in the audit trail)")] = False,
    output_format: Annotated[str | None, typer.Option("--output", "-o", help="yaml or json")] = None,
) -> None:
    """Show a secret's keys and version; values only with --reveal."""
    params: dict[str, Any] = {"reveal": "true" if reveal else "false"}
    if version is not None:
        params["version"] = version
    found = client_from(ctx).request("GET", f"/api/v1/secrets/data/{path}", params=params)
    values = found.get("data") if reveal else dict.fromkeys(found["keys"], HIDDEN)
    shown = {"path": found["path"], "version": found["metadata"]["version"], "data": values}
    if _print(ctx, shown, output_format):
        return
    table = Table("KEY", "VALUE", box=None, header_style="bold")
    for key in found["keys"]:
        table.add_row(key, str((values or {}).get(key, "")))
    console = console_from(ctx)
    console.print(f"{found['path']} (version {found['metadata']['version']})", markup=False, highlight=False)
    console.print(table)


@secrets_app.command("list")
def list_(
    ctx: typer.Context,
    prefix: Annotated[str, typer.Argument(help="a path prefix, e.g. payments/")] = "",
    output_format: Annotated[str | None, typer.Option("--output", "-o", help="yaml or json")] = None,
) -> None:
    """List secret paths you may see (never values)."""
    items = client_from(ctx).request("GET", "/api/v1/secrets/paths", params={"prefix": prefix})["items"]
    if _print(ctx, items, output_format):
        return
    for item in items:
        console_from(ctx).print(item["path"], markup=False, highlight=False)


@secrets_app.command("versions")
def versions(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument()],
    output_format: Annotated[str | None, typer.Option("--output", "-o", help="yaml or json")] = None,
) -> None:
    """Show every kept version with its created/deleted/destroyed state."""
    meta = client_from(ctx).request("GET", f"/api/v1/secrets/metadata/{path}")
    if _print(ctx, meta, output_format):
        return
    table = Table("VERSION", "CREATED", "BY", "STATE", box=None, header_style="bold")
    for v in meta["versions"]:
        state = "destroyed" if v["destroyed"] else ("deleted" if v["deletionTime"] else "current"
                                                    if v["version"] == meta["currentVersion"] else "kept")  # fmt: skip
        table.add_row(str(v["version"]), v["createdTime"], v["createdBy"], state)
    console_from(ctx).print(table)


def _versions_command(ctx: typer.Context, verb: str, path: str, numbers: list[int]) -> None:
    client_from(ctx).request("POST", f"/api/v1/secrets/{verb}/{path}", json={"versions": numbers})
    which = ", ".join(str(n) for n in numbers) or "latest"
    console_from(ctx).print(f"secret {path}: {verb}d version(s) {which}", markup=False, highlight=False)


@secrets_app.command("delete")
def delete(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument()],
    versions_: Annotated[str | None, typer.Option("--versions", help="comma-separated (default: latest)")] = None,
) -> None:
    """Soft-delete versions; `undelete` brings them back."""
    _versions_command(ctx, "delete", path, _versions(versions_))


@secrets_app.command("undelete")
def undelete(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument()],
    versions_: Annotated[str, typer.Option("--versions", help="comma-separated")],
) -> None:
    """Restore soft-deleted versions."""
    _versions_command(ctx, "undelete", path, _versions(versions_))


@secrets_app.command("destroy")
def destroy(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument()],
    versions_: Annotated[str, typer.Option("--versions", help="comma-separated")],
) -> None:
    """Permanently remove the values of versions (metadata stays)."""
    _versions_command(ctx, "destroy", path, _versions(versions_))


@secrets_app.command("rotate")
def rotate(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument()],
    key: Annotated[str, typer.Option(help="the key to regenerate")] = "password",
    length: Annotated[int, typer.Option(help="password length")] = 32,
    symbols: Annotated[int | None, typer.Option(help="how many symbols (default: a quarter)")] = None,
) -> None:
    """Regenerate one key with the Password generator; the new version becomes current."""
    spec: dict[str, Any] = {"length": length}
    if symbols is not None:
        spec["symbols"] = symbols
    meta = client_from(ctx).request("POST", f"/api/v1/secrets/rotate/{path}", json={"key": key, "password": spec})
    console_from(ctx).print(f"secret {path}: {key} rotated, version {meta['version']} is current", markup=False)


@secrets_app.command("rotate-kek")
def rotate_kek(ctx: typer.Context) -> None:
    """Generate a new key-encryption key and re-wrap every data key under it, online (platform admins)."""
    report = client_from(ctx).request("POST", "/api/v1/secrets/kek/rotate")
    console = console_from(ctx)
    console.print(
        f"KEK {report['kekId']} is current ({report['keyFile']}): {report['rewrapped']} data key(s) re-wrapped, "
        f"{report['alreadyCurrent']} already current, {report['skippedDestroyed']} destroyed",
        markup=False, highlight=False,
    )  # fmt: skip
    if report.get("note"):
        console.print(f"note: {report['note']}", markup=False, highlight=False)
