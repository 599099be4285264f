"""Platform-level commands: kinds, crds, audit, tokens, whoami."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from .. import output
from ..state import client_from, console_from

audit_app = typer.Typer(help="Read and verify the tamper-evident audit trail.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the platform commands to ``app``."""
    app.add_typer(audit_app, name="audit")
    app.add_typer(token_app, name="token")

    @app.command()
    def kinds(ctx: typer.Context) -> None:
        """List the kinds the platform serves (like kubectl api-resources)."""
        console = console_from(ctx)
        table = Table("NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", box=None, header_style="bold")
        for k in client_from(ctx).kinds():
            table.add_row(
                k["name"], ",".join(k["shortNames"]), f"{k['group']}/{k['versions'][0]}",
                str(k["namespaced"]).lower(), k["kind"],
            )  # fmt: skip
        console.print(table)

    @app.command()
    def crds(ctx: typer.Context) -> None:
        """Print every platform kind as a Kubernetes CustomResourceDefinition (multi-document YAML)."""
        items = client_from(ctx).request("GET", "/api/v1/platform/crds")["items"]
        text = "".join("---\n" + output.render(item, "yaml") for item in items)
        console_from(ctx).print(text, end="", markup=False, highlight=False)

    @app.command()
    def whoami(ctx: typer.Context) -> None:
        """Show who the token belongs to."""
        me = client_from(ctx).request("GET", "/api/v1/tenancy/whoami")
        console_from(ctx).print(f"{me['kind']}:{me['name']} (groups: {', '.join(me['groups']) or 'none'})")


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    actor: Annotated[str | None, typer.Option(help="e.g. user:alice")] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    since: Annotated[str | None, typer.Option(help="ISO time, e.g. 2026-11-26T10:00:00Z")] = None,
    until: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 200,
    output_format: Annotated[str | None, typer.Option("--output", "-o", help="yaml or json")] = None,
) -> None:
    """Show audit records filtered by actor, resource and time."""
    params: dict[str, Any] = {"limit": limit}
    for key, value in (("actor", actor), ("kind", kind), ("namespace", namespace), ("name", name),
                       ("since", since), ("until", until)):  # fmt: skip
        if value:
            params[key] = value
    items = client_from(ctx).request("GET", "/api/v1/audit/records", params=params)["items"]
    console = console_from(ctx)
    if output_format in ("yaml", "json"):
        console.print(output.render(items, output_format), end="", markup=False, highlight=False)
        return
    table = Table("SEQ", "TIME", "ACTOR", "VERB", "RESOURCE", "OUTCOME", "CODE", box=None, header_style="bold")
    for r in items:
        where = f"{r['namespace']}/" if r.get("namespace") else ""
        table.add_row(
            str(r["seq"]), r["time"], r["actor"], r["verb"], f"{r['kind']} {where}{r.get('name') or ''}",
            r["outcome"], str(r["code"]),
        )  # fmt: skip
    console.print(table)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Recompute the hash chain; exit 1 naming the first broken record if any was altered."""
    report = client_from(ctx).request("POST", "/api/v1/audit/verify")
    console = console_from(ctx)
    if report.get("ok"):
        console.print(f"audit trail intact: {report.get('checked')} records verified")
        return
    broken = report.get("firstBroken") or {}
    console.print(f"audit trail BROKEN at record {broken.get('seq')}: {broken.get('reason')}")
    raise typer.Exit(1)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option(help="for another user (platform admins only)")] = None,
    group: Annotated[list[str] | None, typer.Option("--group", "-g")] = None,
    description: Annotated[str, typer.Option()] = "",
    ttl_days: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Create an API token; it is shown once."""
    body = {"user": user, "groups": group or [], "description": description, "ttlDays": ttl_days}
    created = client_from(ctx).request("POST", "/api/v1/tenancy/tokens", json=body)
    console = console_from(ctx)
    console.print(created["token"], markup=False, highlight=False)
    console.print(f"token {created['id']} for {created['user']} created; it is not shown again", style="dim")
