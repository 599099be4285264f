"""``blacktop plan`` and ``blacktop explain``: what a claim would change, and why it looks as it does.

Both are pure views over a :class:`~.reconcile.CompositePlan` and what is stored. ``plan`` lists
every composed resource that would be created, changed or deleted, each with a unified diff of
its manifest (metadata and spec; status is the reconcilers' business), without writing anything.
``explain`` draws the tree claim → composite → composed resources with each one's conditions,
the last error and its reason, which Composition and revision were chosen and why, and which
patch produced each field (:meth:`~.composition.FieldSource.describe`).

Data comes out as JSON-shaped dicts (the HTTP API returns them) and as text (the CLI prints it,
and golden files pin it).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Final

import yaml

from . import reconcile
from .composition import RESOURCE_NAME_ANNOTATION, RenderResult

__all__ = ["explain_tree", "plan_changes", "render_explain", "render_plan"]

_SKIPPED_FIELDS: Final = ("metadata.ownerReferences", "metadata.generateName")
_PROGRESS_REASONS: Final = frozenset({"Creating", "Deleting", "Waiting", "ExternalReconciler"})
"""Reasons of a False condition that report progress rather than an error."""


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _shown(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    if obj is None:
        return {}
    meta = _meta(obj)
    out: dict[str, Any] = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind")}
    shown_meta = {k: meta[k] for k in ("name", "namespace", "labels", "annotations") if meta.get(k)}
    out["metadata"] = shown_meta
    for key, value in obj.items():
        if key not in ("apiVersion", "kind", "metadata", "status"):
            out[key] = value
    return out


def _yaml(obj: Mapping[str, Any]) -> list[str]:
    if not obj:
        return []
    return yaml.safe_dump(dict(obj), sort_keys=True, default_flow_style=False).splitlines()


def _diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(_yaml(_shown(old)), _yaml(_shown(new)), "observed", "desired", lineterm="")
    ]


def plan_changes(
    plan: reconcile.CompositePlan,
    *,
    observed: Sequence[Mapping[str, Any]],
    previous: RenderResult | None = None,
    previous_placements: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every composed resource's action (create, update, delete, unchanged) with a diff.

    Platform resources are compared with what is stored (``observed``); resources for an external
    reconciler with the render of the composite as it stands (``previous``), since blacktop
    does not read them back.
    """
    changes: list[dict[str, Any]] = []
    by_template = {str((_meta(o).get("annotations") or {}).get(RESOURCE_NAME_ANNOTATION)): o for o in observed}
    written = {w.template: w for w in plan.writes}
    old_external = _external_renders(previous, previous_placements or {})
    external_names = {str(_meta(e).get("name")): e for e in plan.external}
    for template, ref in plan.placements.items():
        entry = {"template": template, "kind": ref.get("kind"), "apiVersion": ref.get("apiVersion"),
                 "name": ref.get("name"), "namespace": ref.get("namespace")}  # fmt: skip
        if template in written:
            write = written[template]
            entry.update(action="update" if write.observed else "create", diff=_diff(write.observed, write.desired))
            entry["external"] = False
        elif str(ref.get("name")) in external_names:
            desired = external_names[str(ref.get("name"))]
            before = old_external.get(template)
            entry["external"] = True
            if before is None:
                entry.update(action="create", diff=_diff(None, desired))
            else:
                lines = _diff(before, desired)
                entry.update(action="update" if lines else "unchanged", diff=lines)
        else:
            entry.update(action="unchanged", diff=[], external=False)
            if template in by_template:
                entry["name"] = _meta(by_template[template]).get("name")
        changes.append(entry)
    for ref in plan.deletes:
        changes.append({"template": None, "kind": ref.get("kind"), "apiVersion": ref.get("apiVersion"),
                        "name": ref.get("name"), "namespace": ref.get("namespace"), "action": "delete",
                        "external": False, "diff": []})  # fmt: skip
    return changes


def _external_renders(
    previous: RenderResult | None, placements: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    if previous is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for composed in previous.resources:
        resource = dict(composed.resource)
        meta = dict(_meta(resource))
        meta.pop("generateName", None)
        if composed.name in placements:
            meta["name"] = placements[composed.name].get("name")
        resource["metadata"] = meta
        out[composed.name] = resource
    return out


_SYMBOLS: Final = {"create": "+", "update": "~", "delete": "-", "unchanged": "="}


def render_plan(target: str, changes: Sequence[Mapping[str, Any]], *, error: str | None = None) -> str:
    """The plan as text: one line per composed resource, then its diff, then a summary."""
    lines = [f"Plan for {target}:"]
    if error:
        lines.append(f"  error: {error}")
    for change in changes:
        where = f"{change['namespace']}/" if change.get("namespace") else ""
        template = f" ({change['template']})" if change.get("template") else ""
        external = " [external: GitOps]" if change.get("external") else ""
        lines.append(
            f"  {_SYMBOLS[str(change['action'])]} {change['action']:<9} {change['kind']} {where}{change['name']}"
            f"{template}{external}"
        )
        lines.extend(f"      {line}" for line in change.get("diff") or [])
    counts = {a: sum(1 for c in changes if c["action"] == a) for a in ("create", "update", "delete", "unchanged")}
    lines.append(
        f"{counts['create']} to create, {counts['update']} to change, {counts['delete']} to delete, "
        f"{counts['unchanged']} unchanged."
    )
    return "\n".join(lines) + "\n"


def _conditions(obj: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if obj is None:
        return []
    return [
        {k: c.get(k) for k in ("type", "status", "reason", "message") if c.get(k) not in (None, "")}
        for c in (obj.get("status") or {}).get("conditions") or []
        if isinstance(c, Mapping)
    ]


def _last_error(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    failing = [
        c
        for c in _conditions(obj)
        if c.get("status") == "False" and c.get("message") and c.get("reason") not in _PROGRESS_REASONS
    ]
    synced = [c for c in failing if c.get("type") == "Synced"]
    candidates = synced or failing
    if not candidates:
        return None
    return {"reason": candidates[0].get("reason"), "message": candidates[0].get("message")}


def _node(obj: Mapping[str, Any] | None, *, kind: str = "", name: str = "") -> dict[str, Any]:
    meta = _meta(obj or {})
    return {
        "apiVersion": (obj or {}).get("apiVersion"),
        "kind": (obj or {}).get("kind") or kind,
        "name": meta.get("name") or name,
        "namespace": meta.get("namespace"),
        "exists": obj is not None,
        "conditions": _conditions(obj),
        "lastError": _last_error(obj),
    }


def explain_tree(
    *,
    claim: Mapping[str, Any] | None,
    composite: Mapping[str, Any] | None,
    plan: reconcile.CompositePlan | None,
    observed: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The tree claim → composite → composed resources, with selection and field provenance."""
    tree: dict[str, Any] = {}
    if claim is not None:
        tree["claim"] = _node(claim)
    xr = _node(composite)
    selection = dict(((composite or {}).get("status") or {}).get("compositionSelection") or {})
    if plan is not None and plan.status_fields.get("compositionSelection"):
        selection = dict(plan.status_fields["compositionSelection"])
    xr["composition"] = selection or None
    if plan is not None and plan.error:
        xr["renderError"] = plan.error
    by_template = {str((_meta(o).get("annotations") or {}).get(RESOURCE_NAME_ANNOTATION)): o for o in observed}
    composed: list[dict[str, Any]] = []
    if plan is not None and plan.render is not None:
        for resource in plan.render.resources:
            ref = plan.placements.get(resource.name) or {}
            stored = by_template.get(resource.name)
            node = _node(stored, kind=str(resource.resource.get("kind")), name=str(ref.get("name") or ""))
            node["namespace"] = node["namespace"] or ref.get("namespace")
            node.update(
                template=resource.name,
                ready=resource.ready,
                external=stored is None and resource.name in plan.placements and not _is_written(plan, resource.name),
                fields=[
                    {"path": path, "source": source.describe()}
                    for path, source in sorted(resource.provenance.items())
                    if source.origin in ("patch", "function") and path not in _SKIPPED_FIELDS
                ],
            )
            composed.append(node)
    xr["resources"] = composed
    tree["composite"] = xr
    return tree


def _is_written(plan: reconcile.CompositePlan, template: str) -> bool:
    return any(w.template == template for w in plan.writes)


def _status_line(node: Mapping[str, Any]) -> str:
    parts = [f"{c['type']}={c['status']}" for c in node.get("conditions") or [] if c.get("type") in ("Synced", "Ready")]
    ready = next((c for c in node.get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is not None and ready.get("reason"):
        parts.append(f"({ready['reason']})")
    if not node.get("exists"):
        parts.append("(not created yet)")
    return " ".join(parts)


def _title(node: Mapping[str, Any]) -> str:
    where = f"{node['namespace']}/" if node.get("namespace") else ""
    return f"{node.get('kind')} {where}{node.get('name')}"


def render_explain(tree: Mapping[str, Any]) -> str:
    """The explain tree as text."""
    lines: list[str] = []
    indent = ""
    claim = tree.get("claim")
    if claim is not None:
        lines.append(f"{_title(claim)}  {_status_line(claim)}".rstrip())
        lines.extend(_error_lines(claim, "  "))
        indent = "  "
    xr = tree["composite"]
    lines.append(f"{indent}{'└─ ' if claim is not None else ''}{_title(xr)}  {_status_line(xr)}".rstrip())
    inner = indent + ("   " if claim is not None else "  ")
    selection = xr.get("composition") or {}
    if selection:
        lines.append(f"{inner}composition: {selection.get('composition')} ({selection.get('compositionReason')})")
        lines.append(
            f"{inner}revision:    {selection.get('revision')} (#{selection.get('revisionNumber')}, "
            f"{selection.get('revisionReason')})"
        )
    if xr.get("renderError"):
        lines.append(f"{inner}render error: {xr['renderError']}")
    lines.extend(_error_lines(xr, inner))
    resources = xr.get("resources") or []
    for index, node in enumerate(resources):
        last = index == len(resources) - 1
        branch, pad = ("└─ ", "   ") if last else ("├─ ", "│  ")
        external = "  [external reconciler]" if node.get("external") else ""
        status = _status_line(node) if node.get("exists") else ("ready" if node.get("ready") else "not ready")
        lines.append(f"{inner}{branch}{node['template']}: {_title(node)}  {status}{external}".rstrip())
        lines.extend(_error_lines(node, inner + pad + "  "))
        for entry in node.get("fields") or []:
            lines.append(f"{inner}{pad}  {entry['path']} <- {entry['source']}")
    return "\n".join(lines) + "\n"


def _error_lines(node: Mapping[str, Any], indent: str) -> list[str]:
    error = node.get("lastError")
    if not error:
        return []
    return [f"{indent}last error: {error.get('reason')}: {error.get('message')}"]
