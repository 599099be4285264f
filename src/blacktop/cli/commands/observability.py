"""``blacktop observability …``: render a config's outputs, SLO reports, local Prometheus, catalog sync.

``render`` asks the server for a stored config's outputs (rendered with the server's dashboard
templates), or renders a local file offline with ``-f`` and the built-in templates; either way it
prints every file, or writes them under ``--out`` laid out as in the GitOps repository.
``slo-report`` asks the server (which knows the configured Prometheus) or, with ``--prometheus``,
a Prometheus directly.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from blacktop import observability
from blacktop.kernel.documents import iter_objects, load_documents
from blacktop.kernel.errors import InputError, Problem
from blacktop.observability import adapters, publishing, reporting

from .. import output
from ..state import client_from, console_from

observability_app = typer.Typer(
    help="Zero-config observability: rendered outputs, SLO reports, the local Prometheus.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add ``blacktop observability`` to ``app``."""
    app.add_typer(observability_app, name="observability")


def render_file(path: Path, name: str | None) -> dict[str, str]:
    """Every output of the ObservabilityConfig(s) in a local file (only ``name`` when given), rendered offline."""
    documents = load_documents(path.read_bytes(), source=str(path))
    files: dict[str, str] = {}
    found = 0
    for document, obj in iter_objects(documents):
        if not isinstance(obj, dict) or obj.get("kind") != observability.model.KIND:
            continue
        if name is not None and (obj.get("metadata") or {}).get("name") != name:
            continue
        found += 1
        try:
            config = observability.parse_observability_config(obj)
        except InputError as exc:
            raise InputError(
                str(exc),
                problems=[Problem(p.path, p.message, document=str(path), line=document.line) for p in exc.problems],
            ) from exc
        files.update(publishing.compute_files(config))
    if not found:
        what = f"no ObservabilityConfig named {name!r}" if name else "no ObservabilityConfig"
        raise InputError(f"{path} holds {what}", problems=[Problem("kind", "expected kind: ObservabilityConfig")])
    return files


def write_files(files: dict[str, str], out: Path) -> list[Path]:
    """Write ``files`` under ``out`` (paths as in the GitOps repository); the paths written."""
    written = []
    for relative, text in sorted(files.items()):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


@observability_app.command("render")
def render(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="the ObservabilityConfig's name")] = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n")] = "default",
    filename: Annotated[Path | None, typer.Option("--filename", "-f", help="render a local file offline")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write the files under this folder")] = None,
) -> None:
    """Print (or write) every generated output of an ObservabilityConfig."""
    if filename is not None:
        files = render_file(filename, name)
    elif name is None:
        raise InputError("say which config to render", problems=[Problem("NAME", "give a name, or -f FILE")])
    else:
        path = f"/api/v1/observability/namespaces/{namespace}/configs/{name}/outputs"
        files = dict(client_from(ctx).request("GET", path)["files"])
    console = console_from(ctx)
    if out is not None:
        for target in write_files(files, out):
            console.print(f"wrote {target}", markup=False, highlight=False)
        return
    for relative, text in sorted(files.items()):
        console.print(
            f"# --- {relative} ---\n{text}", end="" if text.endswith("\n") else "\n", markup=False, highlight=False
        )


def _percent(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return "no data"
    return f"{value * 100:.{digits}f}%"


def print_report(ctx: typer.Context, report: dict[str, Any]) -> None:
    """The report as a table, with where it came from."""
    console = console_from(ctx)
    console.print(
        f"service {report['service']}: SLOs over {report['period']} from {report['prometheus']}",
        markup=False,
        highlight=False,
    )
    if not report["slos"]:
        console.print("no SLO series found: are the generated rules loaded in this Prometheus?", markup=False)
        return
    table = Table("SLO", "OBJECTIVE", "ATTAINMENT", "BUDGET REMAINING", "BURN RATE", box=None, header_style="bold")
    for line in report["slos"]:
        burn = line.get("burnRate")
        table.add_row(
            line["slo"],
            _percent(line.get("objective")),
            _percent(line.get("attainment")),
            _percent(line.get("budgetRemaining"), 1),
            "no data" if burn is None else f"{burn:.2f}x",
        )
    console.print(table)


@observability_app.command("slo-report")
def slo_report(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="the service (spec.service)")],
    prometheus: Annotated[
        str | None, typer.Option(envvar="BLACKTOP_PROMETHEUS_URL", help="ask this Prometheus instead of the server")
    ] = None,
    output_format: Annotated[str | None, typer.Option("--output", "-o", help="yaml or json")] = None,
) -> None:
    """Objective, current attainment and error budget remaining of a service's SLOs."""
    if prometheus:
        report = asyncio.run(reporting.fetch_slo_report(adapters.HttpPrometheus(prometheus), service)).to_json()
    else:
        report = client_from(ctx).request("GET", f"/api/v1/observability/slo-report/{service}")
    if output_format in ("yaml", "json"):
        console_from(ctx).print(output.render(report, output_format), end="", markup=False, highlight=False)
        return
    print_report(ctx, report)


@observability_app.command("local")
def local_prometheus(ctx: typer.Context) -> None:
    """Where the local Prometheus runs (started by ``blacktop up`` in local mode)."""
    state = client_from(ctx).request("GET", "/api/v1/observability/local")
    console = console_from(ctx)
    if state["enabled"]:
        console.print(f"local Prometheus: {state['url']} ({state['binary']})", markup=False, highlight=False)
        console.print(f"  targets: {state['url']}/targets  alerts: {state['url']}/alerts", markup=False)
    else:
        console.print(f"no local Prometheus: {state['reason']}", markup=False, highlight=False)


@observability_app.command("sync")
def sync(ctx: typer.Context) -> None:
    """Run the catalog sync now: one ObservabilityConfig per catalog service without one."""
    result = client_from(ctx).request("POST", "/api/v1/observability/catalog-sync")
    console = console_from(ctx)
    console.print(
        f"{len(result['applied'])} applied, {len(result['deleted'])} deleted, {result['unchanged']} unchanged, "
        f"{len(result['skipped'])} with their own config, {len(result['problems'])} problem(s)",
        markup=False,
        highlight=False,
    )
    for problem in result["problems"]:
        console.print(f"  - {problem['entityRef']}: {problem['path']}: {problem['message']}", markup=False)
