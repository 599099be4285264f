"""kubectl-style resource commands: apply, get, describe, delete, wait."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from blacktop.kernel.documents import Document, iter_objects, load_documents
from blacktop.kernel.errors import InputError, NotFoundError, Problem

from .. import output
from ..client import PlatformClient, collection_path, object_path
from ..state import client_from, console_from

NamespaceOpt = Annotated[str | None, typer.Option("--namespace", "-n", help="namespace (default: default)")]
OutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="yaml, json, wide or name")]
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def read_manifests(paths: list[str]) -> list[Document]:
    """Read every manifest from files, directories (recursively) or ``-`` (standard input)."""
    documents: list[Document] = []
    for entry in paths:
        if entry == "-":
            documents.extend(load_documents(sys.stdin.read(), source="<stdin>"))
            continue
        path = Path(entry)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in _MANIFEST_SUFFIXES and p.is_file())
        elif path.is_file():
            files = [path]
        else:
            raise InputError(f"{entry}: no such file or directory", problems=[Problem("-f", f"{entry} does not exist")])
        for file in files:
            documents.extend(load_documents(file.read_bytes(), source=str(file)))
    return documents


def _apply_body(documents: list[Document], namespace: str | None, client: PlatformClient) -> dict[str, Any]:
    items = []
    for doc, obj in iter_objects(documents):
        if namespace and isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
            kind = _kind_of(client, obj)
            if kind is not None and kind["namespaced"]:
                obj["metadata"].setdefault("namespace", namespace)
        items.append({"source": f"{doc.source}:{doc.line}", "object": obj})
    return {"kind": "ApplyRequest", "documents": items}


def _kind_of(client: PlatformClient, obj: dict[str, Any]) -> dict[str, Any] | None:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    for kind in client.kinds():
        if kind["kind"] == obj.get("kind") and kind["group"] == group:
            return kind
    return None


def register(app: typer.Typer) -> None:
    """Add the resource commands to ``app``."""

    @app.command()
    def apply(
        ctx: typer.Context,
        filename: Annotated[list[str], typer.Option("--filename", "-f", help="file, directory or - for stdin")],
        namespace: NamespaceOpt = None,
    ) -> None:
        """Create or update resources from YAML/JSON manifests, all or nothing."""
        client, console = client_from(ctx), console_from(ctx)
        documents = read_manifests(filename)
        if not documents:
            raise InputError("no documents found", problems=[Problem("-f", "the files hold no YAML or JSON documents")])
        result = client.request("POST", "/api/v1/platform/apply", json=_apply_body(documents, namespace, client))
        for item in result["results"]:
            group = str(item["apiVersion"]).rpartition("/")[0]
            console.print(f"{item['kind'].lower()}.{group}/{item['name']} {item['action']}")

    @app.command()
    def get(
        ctx: typer.Context,
        kind: Annotated[str, typer.Argument(help="kind, plural or short name, e.g. databases")],
        name: Annotated[str | None, typer.Argument()] = None,
        namespace: NamespaceOpt = None,
        all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A")] = False,
        selector: Annotated[str | None, typer.Option("--selector", "-l", help="label selector")] = None,
        output_format: OutputOpt = None,
    ) -> None:
        """Show one object or a list."""
        client, console = client_from(ctx), console_from(ctx)
        info = client.resolve_kind(kind)
        ns = None if all_namespaces else (namespace or "default")
        if name:
            obj = client.request("GET", object_path(info, ns, name))
            items = [obj]
        else:
            items = _list_all(client, info, ns, selector)
            if not items and output_format not in ("yaml", "json"):
                where = " in any namespace" if ns is None or not info["namespaced"] else f" in namespace {ns}"
                console.print(f"No {info['name']} found{where}.")
                return
        if output_format in ("yaml", "json"):
            value: Any = items[0] if name else {"apiVersion": "v1", "kind": "List", "items": items}
            console.print(output.render(value, output_format), end="", markup=False, highlight=False)
        elif output_format == "name":
            for obj in items:
                console.print(f"{info['name']}/{obj['metadata']['name']}", markup=False)
        else:
            columns = [(c["name"], c["path"]) for c in info.get("printerColumns") or []]
            output.render_table(
                console,
                items,
                all_namespaces=bool(info["namespaced"] and ns is None),
                wide=output_format == "wide",
                columns=columns,
            )

    @app.command()
    def describe(
        ctx: typer.Context,
        kind: Annotated[str, typer.Argument()],
        name: Annotated[str, typer.Argument()],
        namespace: NamespaceOpt = None,
    ) -> None:
        """Show an object in detail: metadata, spec and conditions."""
        client, console = client_from(ctx), console_from(ctx)
        info = client.resolve_kind(kind)
        obj = client.request("GET", object_path(info, namespace, name))
        meta = obj.get("metadata") or {}
        for label, value in (
            ("Name", meta.get("name")),
            ("Namespace", meta.get("namespace")),
            ("Kind", f"{obj.get('kind')} ({obj.get('apiVersion')})"),
            ("Labels", ", ".join(f"{k}={v}" for k, v in (meta.get("labels") or {}).items()) or "<none>"),
            ("Annotations", ", ".join(f"{k}={v}" for k, v in (meta.get("annotations") or {}).items()) or "<none>"),
            ("Created", meta.get("creationTimestamp")),
            ("Generation", meta.get("generation")),
            ("Resource version", meta.get("resourceVersion")),
            ("Finalizers", ", ".join(meta.get("finalizers") or []) or "<none>"),
            ("Deletion", meta.get("deletionTimestamp") or "<not being deleted>"),
        ):
            console.print(f"[bold]{label}:[/bold] {value}", highlight=False)
        spec = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
        if spec:
            console.print("[bold]Spec:[/bold]")
            console.print(output.render(spec, "yaml"), markup=False, highlight=False)
        conditions = (obj.get("status") or {}).get("conditions") or []
        if conditions:
            table = Table("TYPE", "STATUS", "REASON", "MESSAGE", "LAST TRANSITION", box=None, header_style="bold")
            for c in conditions:
                table.add_row(
                    c.get("type", ""), c.get("status", ""), c.get("reason", ""), c.get("message", ""),
                    c.get("lastTransitionTime", ""),
                )  # fmt: skip
            console.print("[bold]Conditions:[/bold]")
            console.print(table)
        other = {k: v for k, v in (obj.get("status") or {}).items() if k != "conditions"}
        if other:
            console.print("[bold]Status:[/bold]")
            console.print(output.render(other, "yaml"), markup=False, highlight=False)

    @app.command()
    def delete(
        ctx: typer.Context,
        kind: Annotated[str | None, typer.Argument()] = None,
        name: Annotated[str | None, typer.Argument()] = None,
        namespace: NamespaceOpt = None,
        filename: Annotated[list[str] | None, typer.Option("--filename", "-f")] = None,
    ) -> None:
        """Delete objects named on the command line or in manifests."""
        client, console = client_from(ctx), console_from(ctx)
        targets: list[tuple[dict[str, Any], str | None, str]] = []
        if filename:
            for _, obj in iter_objects(read_manifests(filename)):
                info = _kind_of(client, obj)
                if info is None:
                    raise NotFoundError(f"the server has no kind {obj.get('kind')!r} ({obj.get('apiVersion')})")
                meta = obj.get("metadata") or {}
                targets.append((info, meta.get("namespace") or namespace, str(meta.get("name"))))
        elif kind and name:
            targets.append((client.resolve_kind(kind), namespace, name))
        else:
            raise InputError("say what to delete", problems=[Problem("", "give KIND NAME or -f FILE")])
        for info, ns, obj_name in targets:
            result = client.request("DELETE", object_path(info, ns, obj_name))
            pending = (result.get("metadata") or {}).get("deletionTimestamp") and result["metadata"].get("finalizers")
            state = "marked for deletion (waiting for finalizers)" if pending else "deleted"
            console.print(f"{info['name']}/{obj_name} {state}")

    @app.command()
    def wait(
        ctx: typer.Context,
        kind: Annotated[str, typer.Argument(help="KIND or KIND/NAME")],
        name: Annotated[str | None, typer.Argument()] = None,
        namespace: NamespaceOpt = None,
        condition: Annotated[str, typer.Option("--for", help="condition=Ready, condition=Ready=False or delete")] = (
            "condition=Ready"
        ),
        timeout: Annotated[str, typer.Option(help="e.g. 30s, 2m")] = "30s",
    ) -> None:
        """Wait until an object has a condition (or is gone)."""
        client, console = client_from(ctx), console_from(ctx)
        if name is None and "/" in kind:
            kind, name = kind.split("/", 1)
        if not name:
            raise InputError("wait needs an object", problems=[Problem("NAME", "give KIND NAME or KIND/NAME")])
        info = client.resolve_kind(kind)
        deadline = time.monotonic() + _seconds(timeout)
        path = object_path(info, namespace, name)
        while True:
            met, detail = _check(client, path, condition)
            if met:
                console.print(f"{info['name']}/{name} {detail}")
                return
            if time.monotonic() > deadline:
                console.print(f"timed out after {timeout} waiting for {condition} on {info['name']}/{name}: {detail}")
                raise typer.Exit(1)
            time.sleep(0.2)


def _check(client: PlatformClient, path: str, condition: str) -> tuple[bool, str]:
    if condition == "delete":
        try:
            client.request("GET", path)
        except NotFoundError:
            return True, "deleted"
        return False, "still exists"
    if not condition.startswith("condition="):
        raise InputError(
            f"unsupported --for {condition!r}", problems=[Problem("--for", "use condition=TYPE or delete")]
        )
    wanted_type, _, wanted_status = condition.removeprefix("condition=").partition("=")
    wanted_status = wanted_status or "True"
    try:
        obj = client.request("GET", path)
    except NotFoundError:
        return False, "not found yet"
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == wanted_type:
            if str(cond.get("status")).lower() == wanted_status.lower():
                return True, f"condition met ({wanted_type}={cond.get('status')})"
            return False, f"{wanted_type}={cond.get('status')} ({cond.get('reason')}: {cond.get('message')})"
    return False, f"no {wanted_type} condition yet"


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except (ValueError, IndexError) as exc:
        raise InputError(f"invalid --timeout {text!r}", problems=[Problem("--timeout", "use e.g. 30s or 2m")]) from exc


def _list_all(client: PlatformClient, info: dict[str, Any], ns: str | None, selector: str | None) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if selector:
            params["labelSelector"] = selector
        if token:
            params["continue"] = token
        page = client.request("GET", collection_path(info, ns), params=params)
        items.extend(page["items"])
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return items
