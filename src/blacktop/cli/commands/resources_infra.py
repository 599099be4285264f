"""``blacktop plan`` and ``blacktop explain``: self-service infrastructure from the command line.

``plan -f claim.yaml`` shows the composed resources applying the claims would create, change or
delete, as a diff, without applying anything. ``explain KIND/NAME`` (or ``explain KIND NAME``)
shows the tree claim → composite → composed resources with conditions, the last error, the chosen
Composition and revision and why, and which patch produced each field. Both are thin: the server
renders the text (``/api/v1/resources/plan`` and ``/api/v1/resources/explain``), and ``-o json``
or ``-o yaml`` print the structured answer instead.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from blacktop.kernel.documents import iter_objects
from blacktop.kernel.errors import InputError, Problem

from .. import output
from ..state import client_from, console_from
from .resources import NamespaceOpt, read_manifests

StructuredOpt = Annotated[str | None, typer.Option("--output", "-o", help="json or yaml instead of text")]


def _print(ctx: typer.Context, result: dict[str, Any], output_format: str | None) -> None:
    console = console_from(ctx)
    if output_format in ("json", "yaml"):
        body = {k: v for k, v in result.items() if k != "text"}
        console.print(output.render(body, output_format), end="", markup=False, highlight=False)
        return
    if output_format is not None:
        raise InputError(f"unknown output format {output_format!r}", problems=[Problem("-o", "use json or yaml")])
    console.print(result["text"], end="", markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``plan`` and ``explain`` to ``app``."""

    @app.command()
    def plan(
        ctx: typer.Context,
        filename: Annotated[list[str], typer.Option("--filename", "-f", help="file, directory or - for stdin")],
        namespace: NamespaceOpt = None,
        output_format: StructuredOpt = None,
    ) -> None:
        """Show what applying claims would do to their composed resources, without applying."""
        documents = read_manifests(filename)
        items = []
        for doc, obj in iter_objects(documents):
            if namespace and isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
                obj["metadata"].setdefault("namespace", namespace)
            items.append({"source": f"{doc.source}:{doc.line}", "object": obj})
        if not items:
            raise InputError("no documents found", problems=[Problem("-f", "the files hold no YAML or JSON documents")])
        result = client_from(ctx).request("POST", "/api/v1/resources/plan", json={"documents": items})
        _print(ctx, result, output_format)

    @app.command()
    def explain(
        ctx: typer.Context,
        target: Annotated[str, typer.Argument(help="KIND/NAME, e.g. databases/orders-db (or KIND NAME)")],
        name: Annotated[str | None, typer.Argument()] = None,
        namespace: NamespaceOpt = None,
        output_format: StructuredOpt = None,
    ) -> None:
        """Show the tree claim → composite → composed resources and why each field has its value."""
        kind, _, inline = target.partition("/")
        resource = name or inline
        if not resource:
            raise InputError("which object?", problems=[Problem("TARGET", "write KIND/NAME, e.g. databases/orders-db")])
        result = client_from(ctx).request(
            "GET", f"/api/v1/resources/explain/{kind}/{resource}", params={"namespace": namespace or "default"}
        )
        _print(ctx, result, output_format)
