"""``blacktop template …`` and ``blacktop task …``: run golden-path templates and follow their tasks.

``template run`` starts a task through the Backstage task API and follows its events with a live
Rich view of the steps (plain lines when the output is not a terminal); it exits 1 when the task
fails. ``template run --file`` runs a local template instead of a catalog one: like ``dry-run`` it
uploads the template with the files beside it, and the server captures them into the task.
``template dry-run`` uploads a local template with the files beside it, prints the file tree the
template would produce, each step's log and the output, and can write the tree to a folder.
``task list|logs|cancel|rollback`` manage tasks.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.tree import Tree

from blacktop.kernel.errors import InputError, Problem
from blacktop.scaffolder import builtin

from ..client import PlatformClient
from ..state import client_from, console_from

template_app = typer.Typer(help="Golden-path templates: list, run and dry-run.", no_args_is_help=True)
task_app = typer.Typer(help="Scaffolder tasks: list, logs, cancel and rollback.", no_args_is_help=True)

API = "/api/scaffolder/v2"
POLL_SECONDS = 0.2
MAX_UPLOAD_FILES = 2000
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_STYLE = {"completed": "green", "failed": "red", "processing": "yellow", "skipped": "dim", "open": "dim"}


def register(app: typer.Typer) -> None:
    """Add ``blacktop template`` and ``blacktop task`` to ``app``."""
    app.add_typer(template_app, name="template")
    app.add_typer(task_app, name="task")


def parse_values(values_file: Path | None, assignments: list[str]) -> dict[str, Any]:
    """Values from a YAML/JSON file, then ``--set key=value`` (YAML-typed, dotted keys nest)."""
    values: dict[str, Any] = {}
    if values_file is not None:
        loaded = yaml.safe_load(values_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise InputError(f"values file {values_file} must hold a mapping", problems=[Problem("", "not a mapping")])
        values.update(loaded)
    problems = []
    for index, item in enumerate(assignments):
        key, eq, raw = item.partition("=")
        if not eq or not key:
            problems.append(Problem(f"--set[{index}]", f"{item!r} is not key=value"))
            continue
        target = values
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = yaml.safe_load(raw) if raw else ""
    if problems:
        raise InputError("some --set values are malformed", problems=problems)
    return values


@template_app.command("list")
def list_templates(ctx: typer.Context) -> None:
    """Templates in the catalog."""
    entities = client_from(ctx).request("GET", "/api/catalog/entities", params={"filter": "kind=template"})
    table = Table("NAME", "NAMESPACE", "TITLE", "TYPE", "OWNER", box=None, pad_edge=False)
    for entity in entities:
        meta, spec = entity.get("metadata") or {}, entity.get("spec") or {}
        table.add_row(
            meta.get("name", ""),
            meta.get("namespace", "default"),
            meta.get("title", ""),
            str(spec.get("type", "")),
            str(spec.get("owner", "")),
        )
    console_from(ctx).print(table)


@template_app.command("run")
def run_template(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="template name, namespace/name or template:namespace/name (from the catalog)")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="run this template.yaml (or folder holding one) instead; files beside it upload"),
    ] = None,
    values_file: Annotated[Path | None, typer.Option("--values", "-f", help="YAML or JSON file of values")] = None,
    assignments: Annotated[list[str] | None, typer.Option("--set", help="key=value (repeatable)")] = None,
    wait: Annotated[bool, typer.Option(help="follow the task until it ends")] = True,
) -> None:
    """Run a catalog template (or a local one with --file) as a task and follow its steps."""
    if (name is None) == (file is None):
        raise InputError(
            "name a catalog template or give --file, not both",
            problems=[Problem("template", "blacktop template run NAME, or blacktop template run --file template.yaml")],
        )
    client = client_from(ctx)
    values = parse_values(values_file, assignments or [])
    if file is not None:
        path, document = load_template(file, allow_builtin=False)
        body: dict[str, Any] = {
            "template": document, "values": values, "directoryContents": _upload(path.parent, skip=path)
        }  # fmt: skip
    else:
        body = {"templateRef": name, "values": values}
    created = client.request("POST", f"{API}/tasks", json=body)
    task_id = created["id"]
    console = console_from(ctx)
    console.print(f"task {task_id} started", markup=False, highlight=False)
    if not wait:
        return
    task = follow_task(client, console, task_id)
    _print_output(console, task)
    if task["status"] != "completed":
        raise typer.Exit(1)


def follow_task(client: PlatformClient, console: Any, task_id: str) -> dict[str, Any]:
    """Show the task's steps live until it ends; returns the final task."""
    task = client.request("GET", f"{API}/tasks/{task_id}")
    steps = [
        (s.get("id") or f"step-{i + 1}", s.get("name") or s.get("action")) for i, s in enumerate(task["spec"]["steps"])
    ]
    status: dict[str, str] = {sid: "open" for sid, _ in steps}
    lines: list[str] = []
    last: int | None = None

    def view() -> Group:
        table = Table("STEP", "NAME", "STATUS", box=None, pad_edge=False)
        for sid, title in steps:
            table.add_row(sid, str(title), f"[{_STYLE.get(status[sid], 'white')}]{status[sid]}[/]")
        return Group(table, *lines[-8:])

    def poll() -> bool:
        nonlocal last
        done = False
        for event in client.request("GET", f"{API}/tasks/{task_id}/events", params={"after": last} if last else {}):
            last = event["id"]
            body = event.get("body") or {}
            step = body.get("stepId")
            if step in status and body.get("status"):
                status[step] = body["status"]
            if event["type"] == "completion":
                done = True
            if body.get("message"):
                lines.append(f"{step or event['type']}: {body['message']}")
                if not console.is_terminal:
                    console.print(lines[-1], markup=False, highlight=False)
        return done

    if console.is_terminal:
        with Live(view(), console=console, refresh_per_second=8) as live:
            while not poll():
                live.update(view())
                time.sleep(POLL_SECONDS)
            live.update(view())
    else:
        while not poll():
            time.sleep(POLL_SECONDS)
        console.print(view())
    final: dict[str, Any] = client.request("GET", f"{API}/tasks/{task_id}")
    return final


def _print_output(console: Any, task: dict[str, Any]) -> None:
    console.print(f"task {task['id']}: {task['status']}", markup=False, highlight=False)
    error = task.get("error") or {}
    if error.get("message"):
        console.print(f"error: {error['message']}", style="red", markup=False, highlight=False)
    output = task.get("output") or {}
    for link in output.get("links") or []:
        target = link.get("url") or link.get("entityRef") or ""
        console.print(f"  {link.get('title') or 'link'}: {target}", markup=False, highlight=False)
    for text in output.get("text") or []:
        console.print(text.get("content") or "", markup=False, highlight=False)


@template_app.command("dry-run")
def dry_run(
    ctx: typer.Context,
    template: Annotated[
        Path, typer.Argument(help="a template.yaml (files beside it are uploaded as skeletons) or a built-in's name")
    ],
    values_file: Annotated[Path | None, typer.Option("--values", "-f", help="YAML or JSON file of values")] = None,
    assignments: Annotated[list[str] | None, typer.Option("--set", help="key=value (repeatable)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write the produced files into this folder")] = None,
) -> None:
    """Render a local or built-in template without side effects: file tree, step logs and output."""
    template, document = load_template(template)
    body = {
        "template": document,
        "values": parse_values(values_file, assignments or []),
        "directoryContents": _upload(template.parent, skip=template),
    }
    result = client_from(ctx).request("POST", f"{API}/dry-run", json=body)
    console = console_from(ctx)
    for entry in result["log"]:
        message = entry["body"].get("message", "")
        console.print(f"{entry['body'].get('stepId', '')}: {message}", markup=False, highlight=False)
    tree = Tree(f"{document.get('metadata', {}).get('name', 'template')} ({len(result['directoryContents'])} files)")
    for item in result["directoryContents"]:
        tree.add(item["path"] + (" (executable)" if item.get("executable") else ""))
    console.print(tree)
    if result.get("output"):
        console.print(yaml.safe_dump(result["output"], sort_keys=False), markup=False, highlight=False)
    if out is not None:
        write_tree(out, result["directoryContents"])
        console.print(f"wrote {len(result['directoryContents'])} file(s) to {out}", markup=False, highlight=False)
    if result.get("status") == "failed":
        console.print(f"error: {result.get('error')}", style="red", markup=False, highlight=False)
        raise typer.Exit(1)


def template_file(argument: Path, *, allow_builtin: bool = True) -> Path:
    """The template file: the path given, a folder's ``template.yaml``, or the built-in template of that name."""
    if argument.is_dir():
        argument = argument / "template.yaml"
    if argument.is_file():
        return argument
    if allow_builtin and len(argument.parts) == 1 and argument.suffix not in (".yaml", ".yml"):
        return builtin.builtin_template(argument.name).folder / "template.yaml"
    raise InputError(
        f"template file {argument} does not exist",
        problems=[Problem("template", "give the path of a template.yaml, or of the folder that holds it")],
    )


def load_template(argument: Path, *, allow_builtin: bool = True) -> tuple[Path, dict[str, Any]]:
    """The template file and its document; YAML errors and non-mapping documents are ``InputError``s."""
    path = template_file(argument, allow_builtin=allow_builtin)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "template"
        raise InputError(
            f"template file {path} is not valid YAML", problems=[Problem(where, str(exc).replace("\n", " "))]
        ) from exc
    if not isinstance(document, dict):
        raise InputError(
            f"template file {path} must hold one Template entity (a mapping with apiVersion, kind, metadata, spec)",
            problems=[Problem("", f"found {type(document).__name__}")],
        )
    return path, document


def _upload(folder: Path, *, skip: Path) -> list[dict[str, Any]]:
    """Every regular file under ``folder`` (not ``skip``) as ``{path, base64Content}``, within limits."""
    entries: list[dict[str, Any]] = []
    total = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.resolve() == skip.resolve() or ".git" in path.relative_to(folder).parts:
            continue
        data = path.read_bytes()
        total += len(data)
        if len(entries) >= MAX_UPLOAD_FILES or total > MAX_UPLOAD_BYTES:
            raise InputError(
                f"the folder {folder} is too large to upload for a dry run",
                problems=[Problem("", f"at most {MAX_UPLOAD_FILES} files and {MAX_UPLOAD_BYTES} bytes")],
            )
        entries.append(
            {
                "path": path.relative_to(folder).as_posix(),
                "base64Content": base64.b64encode(data).decode(),
                "executable": bool(path.stat().st_mode & 0o100),
            }
        )
    return entries


def write_tree(out: Path, contents: list[dict[str, Any]]) -> None:
    """Write dry-run files under ``out``, refusing paths that leave it."""
    root = out.resolve()
    for item in contents:
        target = (root / item["path"]).resolve()
        if root not in target.parents:
            raise InputError(f"dry-run file {item['path']!r} would be written outside {out}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(item["base64Content"]))
        if item.get("executable"):
            target.chmod(0o755)


@task_app.command("list")
def list_tasks(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="open, processing, completed, failed or cancelled")] = None,
    limit: Annotated[int, typer.Option()] = 50,
) -> None:
    """Tasks, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = status
    page = client_from(ctx).request("GET", f"{API}/tasks", params=params)
    table = Table("ID", "TEMPLATE", "STATUS", "CREATED", "BY", "ROLLBACK", box=None, pad_edge=False)
    for task in page["tasks"]:
        info = task["spec"]["templateInfo"]
        inline = " (inline)" if (info.get("source") or {}).get("type") == "inline" else ""
        table.add_row(
            task["id"], info["entityRef"] + inline, task["status"], task["createdAt"][:19],
            task.get("createdBy") or "", task.get("rollback") or "",
        )  # fmt: skip
    console_from(ctx).print(table)


@task_app.command("logs")
def task_logs(
    ctx: typer.Context,
    task_id: Annotated[str, typer.Argument()],
    follow: Annotated[bool, typer.Option("--follow", help="keep following until the task ends")] = False,
) -> None:
    """Every event of a task (log lines, step progress, completion, rollback)."""
    client, console = client_from(ctx), console_from(ctx)
    last: int | None = None
    while True:
        events = client.request("GET", f"{API}/tasks/{task_id}/events", params={"after": last} if last else {})
        for event in events:
            last = event["id"]
            body = event.get("body") or {}
            prefix = body.get("stepId") or event["type"]
            suffix = f" [{body['status']}]" if body.get("status") else ""
            console.print(f"{event['createdAt'][11:19]} {prefix}: {body.get('message', '')}{suffix}",
                          markup=False, highlight=False)  # fmt: skip
        if not follow or any(e["type"] == "completion" for e in events):
            return
        time.sleep(POLL_SECONDS)


@task_app.command("cancel")
def cancel_task(ctx: typer.Context, task_id: Annotated[str, typer.Argument()]) -> None:
    """Cancel a task (a running step is stopped)."""
    result = client_from(ctx).request("POST", f"{API}/tasks/{task_id}/cancel")
    note = " (the worker stops the running step)" if result.get("cancelRequested") else ""
    console_from(ctx).print(f"task {task_id}: {result['status']}{note}", markup=False, highlight=False)


@task_app.command("rollback")
def rollback_task(ctx: typer.Context, task_id: Annotated[str, typer.Argument()]) -> None:
    """Undo what a finished task's steps did, newest first, and show the rollback log."""
    client = client_from(ctx)
    result = client.request("POST", f"{API}/tasks/{task_id}/rollback")
    console = console_from(ctx)
    for event in client.request("GET", f"{API}/tasks/{task_id}/events"):
        if event["type"] == "rollback":
            body = event["body"]
            console.print(f"{body.get('stepId') or 'rollback'}: {body.get('message')}", markup=False, highlight=False)
    console.print(f"task {task_id}: rollback {result['rollback']}", markup=False, highlight=False)
    if result["rollback"] != "completed":
        raise typer.Exit(1)
