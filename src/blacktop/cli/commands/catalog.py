"""``blacktop catalog …``: register locations, read, search, impact, scorecards and offline validation.

Everything but ``validate`` talks to the server over HTTP. ``validate`` runs the same checks the
server runs on ingestion (schema, naming rules, relation refs) on local files, without a server, and
exits 1 listing every problem with its file, line and field path.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from blacktop import catalog
from blacktop.catalog import refreshing
from blacktop.catalog.errors import CatalogError
from blacktop.kernel.errors import InputError, Problem

from .. import output
from ..state import client_from, console_from

catalog_app = typer.Typer(
    help="The service catalog: Backstage entities, search, impact and scorecards.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add ``blacktop catalog`` to ``app``."""
    app.add_typer(catalog_app, name="catalog")


def _print(ctx: typer.Context, data: Any, fmt: str | None) -> bool:
    if fmt in ("yaml", "json"):
        console_from(ctx).print(output.render(data, fmt), end="", markup=False, highlight=False)
        return True
    return False


def location_of(argument: str) -> tuple[str, str]:
    """``(type, target)`` for a path, URL or explicit ``type:target`` (``git:…``, ``file:…``, ``url:…``)."""
    if argument.startswith(("http://", "https://")):
        return "url", argument
    kind, colon, target = argument.partition(":")
    if colon and kind in ("git", "file", "url"):
        return kind, target
    path = Path(argument).expanduser().resolve()
    if path.is_dir():
        if (path / ".git").exists():
            return "git", str(path)
        return "file", str(path / "**" / "catalog-info.yaml")
    return "file", str(path)


@catalog_app.command("register")
def register_location(
    ctx: typer.Context,
    location: Annotated[str, typer.Argument(help="a file, a folder, a git repository, a URL, or type:target")],
    refresh: Annotated[bool, typer.Option(help="refresh it if it is already registered")] = False,
) -> None:
    """Register a location; its entities are ingested at once and problems listed."""
    type_, target = location_of(location)
    client = client_from(ctx)
    params = {"onConflict": "refresh"} if refresh else {}
    created = client.request("POST", "/api/catalog/locations", json={"type": type_, "target": target}, params=params)
    loc = created["location"]
    status = client.request("GET", f"/api/v1/catalog/locations/{loc['id']}")
    console = console_from(ctx)
    summary = status.get("summary") or {}
    console.print(
        f"location {loc['id']} ({type_}:{target}): {summary.get('entities', len(created['entities']))} entities, "
        f"{summary.get('written', 0)} written, {len(status['errors'])} problem(s)",
        markup=False, highlight=False,
    )  # fmt: skip
    _print_errors(ctx, status["errors"])


def _print_errors(ctx: typer.Context, errors: list[dict[str, Any]]) -> None:
    console = console_from(ctx)
    for problem in errors:
        where = problem.get("document") or ""
        if problem.get("line"):
            where += f":{problem['line']}"
        path = f" {problem['path']}:" if problem.get("path") else ""
        console.print(f"  - {where}{path} {problem['message']}", markup=False, highlight=False)


@catalog_app.command("locations")
def list_locations(
    ctx: typer.Context, output_format: Annotated[str | None, typer.Option("--output", "-o")] = None
) -> None:
    """Registered locations with their last refresh and processing errors."""
    items = client_from(ctx).request("GET", "/api/v1/catalog/locations")["items"]
    if _print(ctx, items, output_format):
        return
    table = Table("ID", "TYPE", "TARGET", "ENTITIES", "ERRORS", "REFRESHED", box=None, header_style="bold")
    for item in items:
        table.add_row(
            item["id"], item["type"], item["target"], str((item.get("summary") or {}).get("entities", "-")),
            str(len(item["errors"])), item.get("refreshedAt") or "-",
        )  # fmt: skip
    console_from(ctx).print(table)
    for item in items:
        if item["errors"]:
            console_from(ctx).print(f"{item['type']}:{item['target']}:", markup=False, highlight=False)
            _print_errors(ctx, item["errors"])


@catalog_app.command("refresh")
def refresh(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="an entity ref or a location id")]) -> None:
    """Refresh the location holding an entity (or a location by id) now."""
    client = client_from(ctx)
    if ":" in ref:
        summary = client.request("POST", "/api/catalog/refresh", json={"entityRef": ref})
    else:
        summary = client.request("POST", f"/api/v1/catalog/locations/{ref}/refresh")
    console_from(ctx).print(
        f"refreshed: {summary['written']} written, {summary['removed']} removed, {summary['problems']} problem(s) "
        f"in {summary['seconds']} s",
        markup=False, highlight=False,
    )  # fmt: skip


@catalog_app.command("get")
def get(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Argument(help="kind:namespace/name; omit to list")] = None,
    kind: Annotated[str | None, typer.Option("--kind", "-k")] = None,
    filters: Annotated[list[str] | None, typer.Option("--filter", "-f", help="Backstage filter, repeatable")] = None,
    limit: Annotated[int, typer.Option()] = 100,
    output_format: Annotated[str | None, typer.Option("--output", "-o", help="yaml or json")] = None,
) -> None:
    """Show one entity, or list entities (filters as in Backstage: key=value, comma = AND, repeat = OR)."""
    client = client_from(ctx)
    if ref:
        parsed = catalog.parse_ref(ref, default_kind=kind or "Component")
        entity = client.request("GET", f"/api/catalog/entities/by-name/{parsed.kind}/{parsed.namespace}/{parsed.name}")
        _print(ctx, entity, output_format or "yaml")
        return
    wanted = list(filters or [])
    if kind:
        wanted = [f"{f},kind={kind}" for f in wanted] or [f"kind={kind}"]
    page = client.request("GET", "/api/catalog/entities/by-query", params={"filter": wanted, "limit": limit})
    if _print(ctx, page["items"], output_format):
        return
    table = Table("KIND", "NAMESPACE", "NAME", "OWNER", "TYPE", "LIFECYCLE", box=None, header_style="bold")
    for e in page["items"]:
        spec = e.get("spec") or {}
        table.add_row(
            e["kind"], e["metadata"].get("namespace", "default"), e["metadata"]["name"], str(spec.get("owner", "")),
            str(spec.get("type", "")), str(spec.get("lifecycle", "")),
        )  # fmt: skip
    console_from(ctx).print(table)
    console_from(ctx).print(f"{len(page['items'])} of {page['totalItems']}", style="dim")


@catalog_app.command("search")
def search(
    ctx: typer.Context,
    term: Annotated[str, typer.Argument(help="words; each matches as a prefix")],
    kind: Annotated[str | None, typer.Option("--kind", "-k")] = None,
    limit: Annotated[int, typer.Option()] = 20,
    output_format: Annotated[str | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Ranked full-text search over names, titles, descriptions, tags, owners, systems and annotations."""
    params: dict[str, Any] = {"q": term, "limit": limit}
    if kind:
        params["filter"] = f"kind={kind}"
    items = client_from(ctx).request("GET", "/api/v1/catalog/search", params=params)["items"]
    if _print(ctx, items, output_format):
        return
    table = Table("REF", "TITLE", "DESCRIPTION", box=None, header_style="bold")
    for item in items:
        table.add_row(item["ref"], item.get("title") or "", (item.get("description") or "")[:80])
    console_from(ctx).print(table)


@catalog_app.command("impact")
def impact(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="e.g. resource:orders-db")],
    dependencies: Annotated[bool, typer.Option("--dependencies", help="what REF needs, not what needs it")] = False,
    depth: Annotated[int | None, typer.Option(help="at most this many hops")] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", "-k", help="report only these kinds")] = None,
    output_format: Annotated[str | None, typer.Option("--output", "-o")] = None,
) -> None:
    """What breaks if REF goes down (its transitive dependents), or what REF depends on."""
    params: dict[str, Any] = {"ref": ref, "direction": "dependencies" if dependencies else "dependents"}
    if depth is not None:
        params["depth"] = depth
    if kind:
        params["kind"] = kind
    result = client_from(ctx).request("GET", "/api/v1/catalog/impact", params=params)
    if _print(ctx, result, output_format):
        return
    console = console_from(ctx)
    console.print(f"{result['direction']} of {result['root']}: {len(result['items'])}", markup=False)
    table = Table("DEPTH", "REF", "VIA", box=None, header_style="bold")
    for node in result["items"]:
        table.add_row(str(node["depth"]), node["ref"], node["via"])
    console.print(table)


@catalog_app.command("score")
def score(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Argument(help="one entity; omit for the whole catalog")] = None,
    team: Annotated[str | None, typer.Option(help="only entities this group owns")] = None,
    output_format: Annotated[str | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Completeness scorecards: per entity with failed checks, and completeness % overall and per team."""
    params = {k: v for k, v in (("ref", ref), ("team", team)) if v}
    result = client_from(ctx).request("GET", "/api/v1/catalog/scores", params=params)
    if _print(ctx, result, output_format):
        return
    console = console_from(ctx)
    overall = result["completeness"]
    console.print(
        f"completeness {overall['percent']}% ({overall['completeEntities']}/{overall['entities']} entities complete)",
        markup=False,
    )
    table = Table("REF", "SCORE", "FAILED", box=None, header_style="bold")
    for item in result["items"][:200]:
        failed = "; ".join(f"{f['id']}: {f['message']}" for f in item["failed"])
        table.add_row(item["ref"], f"{item['percent']}%", failed)
    console.print(table)
    if not ref:
        teams = Table("TEAM", "COMPLETENESS", "ENTITIES", box=None, header_style="bold")
        for name, value in result["teams"].items():
            teams.add_row(name, f"{value['percent']}%", str(value["entities"]))
        console.print(teams)


@catalog_app.command("dark-matter")
def dark_matter(
    ctx: typer.Context, output_format: Annotated[str | None, typer.Option("--output", "-o")] = None
) -> None:
    """What the catalog references but does not hold: owners, dangling relations, orphans."""
    result = client_from(ctx).request("GET", "/api/v1/catalog/dark-matter")
    _print(ctx, result, output_format or "yaml")


@catalog_app.command("validate")
def validate(files: Annotated[list[Path], typer.Argument(help="descriptor files (catalog-info.yaml)")]) -> None:
    """Check descriptor files offline; exit 1 listing every problem with its file, line and field path."""
    problems = asyncio.run(_validate_files(files))
    console = console_from_stdout()
    for problem in problems:
        console.print(f"{problem.describe()}", markup=False, highlight=False)
    if problems:
        raise CatalogError(f"{len(problems)} problem(s) in {len(files)} file(s); fix them and validate again")
    console.print(f"{len(files)} file(s) valid", markup=False)


def console_from_stdout() -> Any:
    """A console for validate, which needs no server state."""
    from rich.console import Console

    return Console(soft_wrap=True, width=250)


async def _validate_files(files: list[Path]) -> list[Any]:
    found: list[Any] = []
    for path in files:
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {path}: {exc}") from exc
        parsed = refreshing.parse_fast(text, source=source)
        found += parsed.problems
        spec = catalog.LocationSpec("file", str(path.resolve()))
        for doc in parsed.documents:
            _, problems, _ = await refreshing.process_document(
                doc, file=spec, root=spec, reader=_LocalFiles(), options=catalog.IngestOptions(rules=_ALL_KINDS)
            )
            problems += _relation_problems(doc.document, known=problems)
            found += [Problem(path=p.path, message=p.message, document=source, line=p.line or doc.line_of(p.path))
                      for p in problems]  # fmt: skip
    return found


def _relation_problems(document: Any, *, known: list[Problem]) -> list[Problem]:
    """Bad relation refs too, even when the schema already failed (the server stops at the first stage)."""
    metadata = document.get("metadata") if isinstance(document, dict) else None
    if not known or not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return []
    if not isinstance(document.get("kind"), str) or not isinstance(document.get("spec", {}), dict):
        return []
    derived = catalog.derive_relations(catalog.Entity.from_dict({"apiVersion": "", **document}))
    seen = {p.path for p in known}
    return [p for p in derived.problems if p.path not in seen]


_ALL_KINDS = (catalog.AllowRule(allow=tuple(catalog.KindMatcher(k) for k in catalog.KNOWN_KINDS)),)


class _LocalFiles:
    """Placeholders in validated files read their neighbours from disk."""

    async def fetch_text(self, location: catalog.LocationSpec) -> str | None:
        """Local files from disk; remote targets are not fetched offline and read as an empty object."""
        if location.type != "file":
            return "{}"
        return await asyncio.to_thread(_read_local, Path(location.target))

    async def list_matching(self, location: catalog.LocationSpec) -> list[catalog.LocationSpec]:
        """Validation does not follow globs."""
        return []


def _read_local(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None
