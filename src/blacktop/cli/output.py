"""How the CLI prints resources: tables in kubectl's habits, YAML and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from blacktop.kernel.clock import parse_timestamp
from blacktop.kernel.documents import dump_yaml


def age(timestamp: str | None, *, now: datetime | None = None) -> str:
    """``5s``, ``3m``, ``2h``, ``4d`` since ``timestamp``."""
    if not timestamp:
        return "<unknown>"
    seconds = int(((now or datetime.now(UTC)) - parse_timestamp(timestamp)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def ready_column(obj: dict[str, Any]) -> str:
    """The Ready condition's status, or ``-`` when the kind reports none."""
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status"))
    return "-"


def lookup(obj: Any, path: str) -> Any:
    """Read a dotted path (``spec.engine``) from a document, or None."""
    current = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def render_table(
    console: Console, items: list[dict[str, Any]], *, all_namespaces: bool, wide: bool, columns: list[tuple[str, str]]
) -> None:
    """Print objects as a table: NAMESPACE (with -A), NAME, READY, AGE, then wide columns and labels."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    if all_namespaces:
        table.add_column("NAMESPACE")
    table.add_column("NAME")
    table.add_column("READY")
    table.add_column("AGE")
    if wide:
        for header, _ in columns:
            table.add_column(header.upper())
        table.add_column("LABELS")
    for obj in items:
        meta = obj.get("metadata") or {}
        row = [str(meta.get("namespace") or "")] if all_namespaces else []
        row += [str(meta.get("name")), ready_column(obj), age(meta.get("creationTimestamp"))]
        if wide:
            row += ["" if lookup(obj, path) is None else str(lookup(obj, path)) for _, path in columns]
            row.append(",".join(f"{k}={v}" for k, v in (meta.get("labels") or {}).items()) or "<none>")
        table.add_row(*row)
    console.print(table)


def render(value: Any, fmt: str) -> str:
    """YAML or JSON text of a value."""
    if fmt == "json":
        return json.dumps(value, indent=2, sort_keys=False)
    return dump_yaml(value)
