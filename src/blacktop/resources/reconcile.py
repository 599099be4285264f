"""Pure planners of the claim lifecycle: claim → composite (XR) → composed resources.

Each planner takes what was observed (the object, its XR or composed resources, the
Compositions and their revisions) and the time, and returns what should be written; the
controllers in ``wiring/resources_controllers.py`` read, call these, and perform the writes.
Nothing here does IO, reads a clock or draws random numbers: generated names are derived from
the owner's uid (:func:`name_suffix`), so a retried reconcile plans the same name again and a
half-finished create is adopted rather than duplicated.

Conditions follow Crossplane: ``Synced`` says whether the last reconcile succeeded (False carries
the error of whichever layer failed: selection, revision, rendering, a composed resource's
write), ``Ready`` is aggregated from the composed resources' readiness checks. The claim copies
both from its XR, so a developer sees every layer's error on the object they own.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from blacktop.kernel.errors import BlacktopError

from . import definitions
from .composition import (
    CLAIM_NAME_LABEL,
    CLAIM_NAMESPACE_LABEL,
    COMPOSITE_LABEL,
    RESOURCE_NAME_ANNOTATION,
    RenderResult,
    composition_from_revision,
    render_composite,
    select_composition,
    select_revision,
)
from .composition.loading import Composition, load_composition
from .composition.results import NAME_SUFFIX_ALPHABET
from .composition.selection import COMPOSITION_HASH_LABEL, crossplane_spec

__all__ = [
    "CLAIM_FINALIZER",
    "COMPOSITE_FINALIZER",
    "DEFINITION_FINALIZER",
    "ChildWrite",
    "ClaimPlan",
    "CompositePlan",
    "Condition",
    "DeletionPlan",
    "claim_secret_name",
    "composite_name",
    "is_deletion_protected",
    "merge_patch",
    "name_suffix",
    "plan_claim",
    "plan_claim_deletion",
    "plan_composite",
    "plan_composite_deletion",
    "plan_definition_deletion",
    "ref_of",
]

CLAIM_FINALIZER: Final = "finalizer.apiextensions.crossplane.io"
COMPOSITE_FINALIZER: Final = "composite.apiextensions.crossplane.io"
DEFINITION_FINALIZER: Final = "defined.apiextensions.crossplane.io"
CLAIM_ONLY_FIELDS: Final = frozenset({"compositeDeletePolicy", "resourceRef", "writeConnectionSecretToRef"})
DELETION_PROTECTION_FIELD: Final = "deletionProtection"
SELECTION_ANNOTATION: Final = "resources.blacktop.dev/composition-selection"
"""Why the persisted ``compositionRef`` was chosen (``<composition>: <reason>``), kept for ``explain``."""
_XR_OWNED: Final = frozenset({"compositionRef", "compositionRevisionRef", "resourceRefs"})


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition to set: type, True/False, a CamelCase reason and a message."""

    type: str
    status: bool
    reason: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class ChildWrite:
    """Create (``observed`` is None) or update a composed resource to ``desired``."""

    template: str
    desired: Mapping[str, Any]
    observed: Mapping[str, Any] | None = None

    @property
    def patch(self) -> dict[str, Any]:
        """The JSON merge patch turning the observed object's metadata and spec into the desired ones."""
        if self.observed is None:
            return {}
        patch: dict[str, Any] = merge_patch(_writable(self.observed), _writable(self.desired))
        return patch


@dataclass(frozen=True)
class CompositePlan:
    """What reconciling an XR wants: children to write or delete, external manifests, XR status."""

    render: RenderResult | None = None
    writes: tuple[ChildWrite, ...] = ()
    deletes: tuple[Mapping[str, Any], ...] = ()
    """References (apiVersion, kind, name, namespace) of composed resources no longer rendered."""
    external: tuple[Mapping[str, Any], ...] = ()
    """Composed resources of kinds the platform does not serve, for the external publisher."""
    spec_patch: Mapping[str, Any] = field(default_factory=dict)
    placements: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Template name → reference of the composed resource it renders (with its final name)."""
    status_fields: Mapping[str, Any] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class ClaimPlan:
    """What reconciling a claim wants: create or update its XR, patch itself, its status."""

    create_composite: Mapping[str, Any] | None = None
    composite_patch: Mapping[str, Any] = field(default_factory=dict)
    claim_patch: Mapping[str, Any] = field(default_factory=dict)
    status_fields: Mapping[str, Any] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()
    connection_secret: str | None = None
    """The secret-store path the connection details go to, when the XR published any."""


@dataclass(frozen=True)
class DeletionPlan:
    """What deleting an object wants: objects to delete now, and whether it may finish."""

    delete: tuple[Mapping[str, Any], ...] = ()
    done: bool = False
    conditions: tuple[Condition, ...] = ()


def name_suffix(seed: str) -> str:
    """Five characters from Kubernetes' generated-name alphabet, derived from ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(NAME_SUFFIX_ALPHABET[b % len(NAME_SUFFIX_ALPHABET)] for b in digest[:5])


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def composite_name(claim: Mapping[str, Any]) -> str:
    """The XR name for a claim: ``<claim>-<5>`` (the claim's ``generateName`` plus a stable suffix)."""
    meta = _meta(claim)
    base = f"{meta.get('name', '')}-"[:58]
    return base + name_suffix(f"{meta.get('namespace')}/{meta.get('name')}/{meta.get('uid', '')}")


def ref_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An object reference (apiVersion, kind, name, and namespace when set)."""
    meta = _meta(obj)
    ref = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta.get("name")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


def merge_patch(old: Any, new: Any) -> Any:
    """The RFC 7386 merge patch from ``old`` to ``new`` (``None`` deletes a key); ``{}`` when equal."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return copy.deepcopy(new)
    patch: dict[str, Any] = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = copy.deepcopy(value)
        elif old[key] != value:
            if isinstance(value, Mapping) and isinstance(old[key], Mapping):
                patch[key] = merge_patch(old[key], value)
            else:
                patch[key] = copy.deepcopy(value)
    return patch


def _writable(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = _meta(obj)
    out: dict[str, Any] = {
        "metadata": {
            "labels": dict(meta.get("labels") or {}),
            "annotations": dict(meta.get("annotations") or {}),
            "ownerReferences": list(meta.get("ownerReferences") or []),
        }
    }
    if "spec" in obj:
        out["spec"] = copy.deepcopy(obj["spec"])
    for key, value in obj.items():
        if key not in ("apiVersion", "kind", "metadata", "status", "spec"):
            out[key] = copy.deepcopy(value)
    return out


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- composite -------------------------------------------------------------------------------------


def _failed(message: str, reason: str = "ReconcileError", **fields: Any) -> CompositePlan:
    return CompositePlan(
        status_fields=fields,
        conditions=(Condition("Synced", False, reason, message),),
        error=message,
    )


def plan_composite(
    xr: Mapping[str, Any],
    *,
    definition: definitions.Definition,
    compositions: Sequence[Mapping[str, Any]],
    revisions: Sequence[Mapping[str, Any]],
    observed: Sequence[Mapping[str, Any]],
    served: Callable[[str, str], bool],
    connection_details: Mapping[str, Mapping[str, bytes]] | None = None,
    environment: Mapping[str, Any] | None = None,
) -> CompositePlan:
    """Select the Composition and revision, render, and plan the composed resources of ``xr``.

    ``observed`` are the composed resources that exist (from the XR's ``resourceRefs`` and the
    rendered names); ``served(api_version, kind)`` says whether the platform serves a kind (else
    the resource goes to the external publisher).
    """
    xrd = definition.document
    try:
        selection = select_composition(xr, compositions, xrd=xrd)
    except BlacktopError as exc:
        return _failed(str(exc), "CompositionNotFound")
    try:
        revision = select_revision(xr, revisions, composition_name=selection.name, xrd=xrd)
    except BlacktopError as exc:
        return _failed(f"composition {selection.name!r}: {exc}", "RevisionNotFound")
    reason = selection.reason
    remembered = str((_meta(xr).get("annotations") or {}).get(SELECTION_ANNOTATION) or "")
    if remembered.startswith(f"{selection.name}: "):
        # The first reconcile persists its choice in compositionRef; keep the reason it was chosen for.
        reason = remembered.removeprefix(f"{selection.name}: ")
    chosen = {
        "composition": selection.name,
        "compositionReason": reason,
        "revision": revision.name,
        "revisionNumber": (revision.revision.get("spec") or {}).get("revision"),
        "revisionReason": revision.reason,
        "updatePolicy": revision.policy,
    }
    spec_patch = _selection_patch(xr, definition, selection.name, revision.name, revision.policy)
    if (crossplane_spec(xr).get("compositionRef") or {}).get("name") != selection.name:
        spec_patch["metadata"] = {"annotations": {SELECTION_ANNOTATION: f"{selection.name}: {reason}"}}
    try:
        result = render_composite(
            xr,
            _loaded(revision.revision),
            observed=observed,
            observed_connection_details=connection_details,
            environment=environment,
        )
    except BlacktopError as exc:
        return _failed(str(exc), "RenderFailed", compositionSelection=chosen)
    writes, external, placements = _split(xr, result, observed, served)
    rendered_refs = list(placements.values())
    keys = {_ref_key(r) for r in rendered_refs}
    stale = [r for r in _resource_refs(xr) if _ref_key(r) not in keys]
    refs_patch = _refs_patch(xr, definition, rendered_refs)
    return CompositePlan(
        render=result,
        writes=tuple(writes),
        deletes=tuple(stale),
        external=tuple(external),
        spec_patch=merge_patch_specs(spec_patch, refs_patch),
        placements=placements,
        status_fields={"compositionSelection": chosen},
        conditions=(Condition("Synced", True, "ReconcileSuccess"),),
    )


_LOADED: dict[tuple[str, ...], Composition] = {}
_LOADED_MAX: Final = 512


def _loaded(revision: Mapping[str, Any]) -> Composition:
    """The revision's Composition, loaded once per stored version of the revision (revisions are immutable)."""
    meta = _meta(revision)
    key = (
        str(meta.get("name")),
        str(meta.get("uid") or ""),
        str(meta.get("resourceVersion") or ""),
        str((meta.get("labels") or {}).get(COMPOSITION_HASH_LABEL) or ""),
        str((revision.get("spec") or {}).get("revision")),
    )
    found = _LOADED.get(key)
    if found is None:
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.clear()
        found = _LOADED[key] = load_composition(composition_from_revision(revision))
    return found


def merge_patch_specs(*patches: Mapping[str, Any]) -> dict[str, Any]:
    """Several ``{"metadata": ..., "spec": ...}`` merge patches as one."""
    out: dict[str, Any] = {}
    for patch in patches:
        for key in ("metadata", "spec"):
            if patch.get(key):
                out.setdefault(key, {}).update(patch[key])
    return out


def _crossplane_path(definition: definitions.Definition) -> tuple[str, ...]:
    return ("spec",) if definition.legacy else ("spec", "crossplane")


def _nest(path: tuple[str, ...], value: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(value)
    for key in reversed(path):
        out = {key: out}
    return out


def _selection_patch(
    xr: Mapping[str, Any], definition: definitions.Definition, composition: str, revision: str, policy: str
) -> dict[str, Any]:
    fields = crossplane_spec(xr)
    wanted: dict[str, Any] = {}
    if (fields.get("compositionRef") or {}).get("name") != composition:
        wanted["compositionRef"] = {"name": composition}
    if policy == "Manual" and (fields.get("compositionRevisionRef") or {}).get("name") != revision:
        wanted["compositionRevisionRef"] = {"name": revision}
    return _nest(_crossplane_path(definition), wanted) if wanted else {}


def _refs_patch(
    xr: Mapping[str, Any], definition: definitions.Definition, refs: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    current = list(crossplane_spec(xr).get("resourceRefs") or [])
    merged = list(current)
    for ref in refs:
        if all(_ref_key(ref) != _ref_key(c) for c in merged):
            merged.append(dict(ref))
    if merged == current:
        return {}
    return _nest(_crossplane_path(definition), {"resourceRefs": merged})


def _resource_refs(xr: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in crossplane_spec(xr).get("resourceRefs") or [] if isinstance(r, Mapping)]


def _ref_key(ref: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (str(ref.get("apiVersion")), str(ref.get("kind")), str(ref.get("namespace") or ""), str(ref.get("name")))


def _split(
    xr: Mapping[str, Any],
    result: RenderResult,
    observed: Sequence[Mapping[str, Any]],
    served: Callable[[str, str], bool],
) -> tuple[list[ChildWrite], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    by_template = {
        str((_meta(o).get("annotations") or {}).get(RESOURCE_NAME_ANNOTATION)): o for o in observed if _meta(o)
    }
    writes: list[ChildWrite] = []
    external: list[dict[str, Any]] = []
    placements: dict[str, dict[str, Any]] = {}
    xr_meta = _meta(xr)
    claim_ns = (crossplane_spec(xr).get("claimRef") or {}).get("namespace")
    for composed in result.resources:
        desired = copy.deepcopy(dict(composed.resource))
        meta = desired.setdefault("metadata", {})
        generate = meta.pop("generateName", None)
        if not meta.get("name"):
            seed = f"{xr_meta.get('name')}/{xr_meta.get('uid', '')}/{composed.name}"
            meta["name"] = str(generate or f"{xr_meta.get('name')}-")[:58] + name_suffix(seed)
        if served(str(desired.get("apiVersion")), str(desired.get("kind"))):
            if not meta.get("namespace") and (xr_meta.get("namespace") or claim_ns):
                meta["namespace"] = xr_meta.get("namespace") or claim_ns
            desired.pop("status", None)
            placements[composed.name] = ref_of(desired)
            found = by_template.get(composed.name)
            if found is not None and _writable(found) == _writable(desired):
                continue
            writes.append(ChildWrite(template=composed.name, desired=desired, observed=found))
        else:
            placements[composed.name] = ref_of(desired)
            external.append(desired)
    return writes, external, placements


def composite_status(
    plan: CompositePlan,
    *,
    now: datetime,
    external_ready: Mapping[str, bool | None] | None = None,
    external_messages: Mapping[str, str] | None = None,
    published_version: str | None = None,
) -> tuple[dict[str, Any], tuple[Condition, ...]]:
    """The XR's status fields and conditions once the plan's writes were made.

    ``external_ready`` maps a template name to what the publisher knows of its readiness (None:
    owned by an external reconciler); such resources count as not ready.
    """
    if plan.render is None:
        return dict(plan.status_fields), plan.conditions
    result = plan.render
    unready = list(result.unready)
    external_ready = external_ready or {}
    waiting_external = sorted(n for n in unready if n in external_ready and external_ready[n] is None)
    # The rendered XR's status (ToCompositeFieldPath patches) first; this reconcile's own fields win.
    fields: dict[str, Any] = copy.deepcopy(dict(result.composite.get("status") or {}))
    fields.update(plan.status_fields)
    fields.pop("conditions", None)
    fields["composedResources"] = [
        {
            "name": r.name,
            "apiVersion": r.resource.get("apiVersion"),
            "kind": r.resource.get("kind"),
            "resourceName": (plan.placements.get(r.name) or {}).get("name") or "",
            "ready": r.ready,
            "external": r.name in external_ready,
        }
        for r in result.resources
    ]
    if result.connection_details:
        published: dict[str, Any] = {"keys": sorted(result.connection_details)}
        if published_version is not None:
            published["version"] = published_version
        before = dict((result.composite.get("status") or {}).get("connectionDetails") or {})
        stamp = before.pop("lastPublishedTime", None)
        # The time moves only when what was published changed, so a steady XR writes no new status.
        fields["connectionDetails"] = {"lastPublishedTime": stamp if before == published else _stamp(now), **published}
    if result.ready:
        ready = Condition("Ready", True, "Available")
    elif waiting_external and len(waiting_external) == len(unready):
        notes = "; ".join(
            f"{n}: {(external_messages or {})[n]}" for n in waiting_external if n in (external_messages or {})
        )
        ready = Condition(
            "Ready",
            False,
            "ExternalReconciler",
            f"readiness of {', '.join(waiting_external)} is owned by an external reconciler"
            + (f" ({notes})" if notes else ""),
        )
    else:
        listed = ", ".join(unready[:3]) + (f", and {len(unready) - 3} more" if len(unready) > 3 else "")
        ready = Condition("Ready", False, "Creating", f"Unready resources: {listed}" if unready else "not ready")
    return fields, (*plan.conditions, ready)


def plan_composite_deletion(
    xr: Mapping[str, Any], *, existing: Sequence[Mapping[str, Any]], order: Sequence[str] = ()
) -> DeletionPlan:
    """Delete composed resources one at a time, last template first; done when none exist.

    ``existing`` are the composed resources still stored; ``order`` is the template order of the
    XR's Composition (unknown templates go first).
    """
    if not existing:
        return DeletionPlan(done=True)
    rank = {name: index for index, name in enumerate(order)}

    def position(obj: Mapping[str, Any]) -> int:
        template = str((_meta(obj).get("annotations") or {}).get(RESOURCE_NAME_ANNOTATION))
        return rank.get(template, len(order))

    last = max(existing, key=position)
    names = ", ".join(str(_meta(o).get("name")) for o in existing)
    return DeletionPlan(
        delete=(ref_of(last),),
        conditions=(Condition("Ready", False, "Deleting", f"deleting composed resources: {names}"),),
    )


# -- claim -----------------------------------------------------------------------------------------


def claim_secret_name(claim: Mapping[str, Any]) -> str:
    """The claim's connection secret name: ``spec.writeConnectionSecretToRef.name``, else the claim's name."""
    ref = (claim.get("spec") or {}).get("writeConnectionSecretToRef") or {}
    return str(ref.get("name") or _meta(claim).get("name"))


def _composite_for(claim: Mapping[str, Any], definition: definitions.Definition, name: str) -> dict[str, Any]:
    meta = _meta(claim)
    spec = {k: copy.deepcopy(v) for k, v in (claim.get("spec") or {}).items() if k not in CLAIM_ONLY_FIELDS}
    if definition.enforced_composition:
        spec.pop("compositionRef", None)
    if (spec.get("compositionUpdatePolicy") or definition.default_update_policy) != "Manual":
        spec.pop("compositionRevisionRef", None)
    spec["writeConnectionSecretToRef"] = {"name": claim_secret_name(claim), "namespace": meta.get("namespace")}
    spec["claimRef"] = {
        "apiVersion": claim.get("apiVersion"),
        "kind": claim.get("kind"),
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
    }
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if "kubernetes.io" not in k}
    labels.update(
        {CLAIM_NAME_LABEL: meta.get("name"), CLAIM_NAMESPACE_LABEL: meta.get("namespace"), COMPOSITE_LABEL: name}
    )
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if "kubernetes.io" not in k}
    out: dict[str, Any] = {
        "apiVersion": f"{definition.group}/{definition.referenceable_version}",
        "kind": definition.composite.kind,
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
    }
    if annotations:
        out["metadata"]["annotations"] = annotations
    return out


def plan_claim(
    claim: Mapping[str, Any],
    *,
    definition: definitions.Definition,
    composite: Mapping[str, Any] | None,
    secret_path: str | None = None,
) -> ClaimPlan:
    """Create or update the claim's XR and reflect the XR's conditions and selection on the claim."""
    ref = (claim.get("spec") or {}).get("resourceRef") or {}
    name = str(ref.get("name") or (composite and _meta(composite).get("name")) or composite_name(claim))
    desired = _composite_for(claim, definition, name)
    claim_patch: dict[str, Any] = {}
    if ref.get("name") != name:
        claim_patch = {
            "spec": {"resourceRef": {"apiVersion": desired["apiVersion"], "kind": desired["kind"], "name": name}}
        }
    if composite is None:
        return ClaimPlan(
            create_composite=desired,
            claim_patch=claim_patch,
            conditions=(
                Condition("Synced", True, "ReconcileSuccess"),
                Condition("Ready", False, "Creating", f"creating composite resource {desired['kind']} {name}"),
            ),
        )
    observed_spec = dict(composite.get("spec") or {})
    wanted_spec = dict(desired["spec"])
    for key in _XR_OWNED:
        if key in observed_spec and (key == "resourceRefs" or key not in wanted_spec):
            wanted_spec[key] = observed_spec[key]
    patch = merge_patch(
        {"spec": observed_spec, "metadata": {"labels": dict(_meta(composite).get("labels") or {})}},
        {"spec": wanted_spec, "metadata": {"labels": desired["metadata"]["labels"]}},
    )
    status = composite.get("status") or {}
    conditions = tuple(_copied_conditions(status))
    fields: dict[str, Any] = {}
    if status.get("compositionSelection"):
        fields["compositionSelection"] = copy.deepcopy(status["compositionSelection"])
    published = status.get("connectionDetails")
    if published and secret_path:
        fields["connectionDetails"] = {**published, "secretPath": secret_path}
    return ClaimPlan(
        composite_patch=patch,
        claim_patch=claim_patch,
        status_fields=fields,
        conditions=conditions,
        connection_secret=secret_path if published else None,
    )


def _copied_conditions(status: Mapping[str, Any]) -> list[Condition]:
    out: list[Condition] = []
    by_type = {c.get("type"): c for c in status.get("conditions") or [] if isinstance(c, Mapping)}
    for kind in ("Synced", "Ready"):
        found = by_type.get(kind)
        if found is None:
            # The claim itself reconciled fine; only readiness waits for the composite's first reconcile.
            waiting = "waiting for the composite resource to be reconciled"
            out.append(
                Condition(kind, True, "ReconcileSuccess")
                if kind == "Synced"
                else Condition(kind, False, "Creating", waiting)
            )
            continue
        message = str(found.get("message") or "")
        out.append(Condition(kind, found.get("status") == "True", str(found.get("reason") or "Unknown"), message))
    return out


def is_deletion_protected(claim: Mapping[str, Any], *, default: bool = False) -> bool:
    """Whether ``spec.deletionProtection`` (or, when unset, the XRD's default for this claim) protects it."""
    value = (claim.get("spec") or {}).get(DELETION_PROTECTION_FIELD)
    return default if value is None else bool(value)


def plan_claim_deletion(
    claim: Mapping[str, Any], *, composite: Mapping[str, Any] | None, protected: bool, foreground: bool
) -> DeletionPlan:
    """Refuse while deletion protection holds; else delete the XR (and wait for it when Foreground)."""
    meta = _meta(claim)
    if protected:
        message = (
            f"{claim.get('kind')} {meta.get('namespace')}/{meta.get('name')} is protected from deletion; "
            f"set spec.{DELETION_PROTECTION_FIELD}: false to allow it (the delete request stays pending)"
        )
        return DeletionPlan(conditions=(Condition("Ready", False, "DeletionProtected", message),))
    if composite is None:
        return DeletionPlan(done=True)
    if _meta(composite).get("deletionTimestamp"):
        if foreground:
            return DeletionPlan(
                conditions=(
                    Condition("Ready", False, "Deleting", f"waiting for {_meta(composite).get('name')} to be deleted"),
                )
            )
        return DeletionPlan(done=True)
    return DeletionPlan(
        delete=(ref_of(composite),),
        done=not foreground,
        conditions=(
            Condition("Ready", False, "Deleting", f"deleting {composite.get('kind')} {_meta(composite).get('name')}"),
        ),
    )


def _display(obj: Mapping[str, Any]) -> str:
    meta = _meta(obj)
    return f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))


def plan_definition_deletion(definition: Mapping[str, Any], *, instances: Sequence[Mapping[str, Any]]) -> DeletionPlan:
    """An XRD may go only once no composite or claim of its kinds exists; otherwise say which ones."""
    if not instances:
        return DeletionPlan(done=True)
    listed = ", ".join(f"{o.get('kind')} {_display(o)}" for o in instances[:5])
    more = f" and {len(instances) - 5} more" if len(instances) > 5 else ""
    message = (
        f"CompositeResourceDefinition {_meta(definition).get('name')} cannot be removed while "
        f"{len(instances)} instance(s) exist: {listed}{more}; delete them first (deletion stays pending)"
    )
    return DeletionPlan(conditions=(Condition("Established", True, "InstancesExist", message),))
