"""Which Composition, and which revision of it, renders a composite resource.

Crossplane selects a Composition once per XR and persists the choice in ``spec.compositionRef``
(spec sheet 1.10): the XRD's ``enforcedCompositionRef`` wins, then an explicit ref, then the XRD's
``defaultCompositionRef`` when the XR neither names nor selects one, and otherwise a Composition
whose labels match ``compositionSelector.matchLabels`` and whose ``compositeTypeRef`` equals the
XR's apiVersion and kind. Crossplane picks among several candidates at random; here the caller
injects the choice (``pick``) so selection stays a pure function.

Each change to a Composition produces a CompositionRevision (a numbered, hashed snapshot of its
spec). An XR with ``compositionUpdatePolicy: Automatic`` follows the newest revision; ``Manual``
stays on ``compositionRevisionRef``. Everything here works on plain dicts shaped like the
Kubernetes objects; v2 XRs keep the fields under ``spec.crossplane``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from .errors import NoCompatibleCompositionError, PatchError, RevisionNotFoundError

__all__ = [
    "COMPOSITION_HASH_LABEL",
    "COMPOSITION_NAME_LABEL",
    "RevisionPlan",
    "RevisionSelection",
    "Selection",
    "composition_from_revision",
    "composition_hash",
    "crossplane_spec",
    "plan_revision",
    "select_composition",
    "select_revision",
]

COMPOSITION_NAME_LABEL: Final = "crossplane.io/composition-name"
COMPOSITION_HASH_LABEL: Final = "crossplane.io/composition-hash"
REVISION_API_VERSION: Final = "apiextensions.crossplane.io/v1"

Picker = Callable[[Sequence[Mapping[str, Any]]], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen Composition and why it was chosen (shown by ``blacktop explain``)."""

    composition: Mapping[str, Any]
    reason: str

    @property
    def name(self) -> str:
        """The chosen Composition's name, to persist in ``compositionRef.name``."""
        return _name(self.composition)


@dataclass(frozen=True, slots=True)
class RevisionSelection:
    """The CompositionRevision an XR renders with, the policy applied and why."""

    revision: Mapping[str, Any]
    policy: Literal["Automatic", "Manual"]
    reason: str

    @property
    def name(self) -> str:
        """The revision's name, to persist in ``compositionRevisionRef.name``."""
        return _name(self.revision)


@dataclass(frozen=True, slots=True)
class RevisionPlan:
    """What to do so that a Composition's current spec has the newest revision."""

    revision: Mapping[str, Any]
    action: Literal["none", "create", "update"]


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (obj.get("metadata") or {}).get("labels") or {}


def crossplane_spec(xr: Mapping[str, Any]) -> Mapping[str, Any]:
    """Where an XR keeps Crossplane's fields: ``spec.crossplane`` (v2) or ``spec`` (v1 and claims)."""
    spec = xr.get("spec") or {}
    nested = spec.get("crossplane")
    return nested if isinstance(nested, Mapping) else spec


def _first(candidates: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    return min(candidates, key=_name)


def _compatible(composition: Mapping[str, Any], xr: Mapping[str, Any]) -> bool:
    ref = (composition.get("spec") or {}).get("compositeTypeRef") or {}
    return (ref.get("apiVersion"), ref.get("kind")) == (xr.get("apiVersion"), xr.get("kind"))


def _by_name(name: str, compositions: Sequence[Mapping[str, Any]], xr: Mapping[str, Any], why: str) -> Selection:
    for composition in compositions:
        if _name(composition) == name:
            if not _compatible(composition, xr):
                raise NoCompatibleCompositionError(
                    f"composition {name!r} ({why}) does not compose {xr.get('apiVersion')} {xr.get('kind')}; "
                    "reference a composition whose compositeTypeRef matches"
                )
            return Selection(composition, why)
    raise NoCompatibleCompositionError(f"composition {name!r} ({why}) does not exist")


def select_composition(
    xr: Mapping[str, Any],
    compositions: Sequence[Mapping[str, Any]],
    *,
    xrd: Mapping[str, Any] | None = None,
    pick: Picker = _first,
) -> Selection:
    """Select the Composition for ``xr`` (an XR or a claim) among ``compositions``.

    ``pick`` chooses among several selector matches (Crossplane picks at random); the default
    takes the first by name, so results are reproducible.
    """
    fields = crossplane_spec(xr)
    xrd_spec = (xrd or {}).get("spec") or {}
    enforced = (xrd_spec.get("enforcedCompositionRef") or {}).get("name")
    if enforced:
        return _by_name(str(enforced), compositions, xr, f"enforced by XRD {_name(xrd or {})!r}")
    ref = (fields.get("compositionRef") or {}).get("name")
    if ref:
        return _by_name(str(ref), compositions, xr, "named by compositionRef")
    selector = fields.get("compositionSelector")
    default = (xrd_spec.get("defaultCompositionRef") or {}).get("name")
    if default and not selector:
        return _by_name(str(default), compositions, xr, f"default of XRD {_name(xrd or {})!r}")
    match_labels = dict((selector or {}).get("matchLabels") or {})
    candidates = [
        c for c in compositions if _compatible(c, xr) and all(_labels(c).get(k) == v for k, v in match_labels.items())
    ]
    if not candidates:
        wanted = f" with labels {match_labels}" if match_labels else ""
        raise NoCompatibleCompositionError(
            f"no compatible Compositions found for {xr.get('apiVersion')} {xr.get('kind')} {_name(xr)!r}{wanted}"
        )
    chosen = pick(candidates)
    if match_labels:
        why = f"compositionSelector {match_labels} matched {len(candidates)} composition(s)"
    else:
        why = f"the only choice among {len(candidates)} compatible composition(s)"
    return Selection(chosen, why)


def composition_hash(composition: Mapping[str, Any]) -> str:
    """A stable hash of what a revision snapshots: the spec, labels and annotations (hex SHA-256)."""
    metadata = composition.get("metadata") or {}
    payload = {
        "labels": metadata.get("labels") or {},
        "annotations": metadata.get("annotations") or {},
        "spec": composition.get("spec") or {},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _revision_number(revision: Mapping[str, Any]) -> int:
    number = (revision.get("spec") or {}).get("revision")
    return number if isinstance(number, int) else 0


def _revisions_of(name: str, revisions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in revisions if _labels(r).get(COMPOSITION_NAME_LABEL) == name]


def plan_revision(composition: Mapping[str, Any], revisions: Sequence[Mapping[str, Any]]) -> RevisionPlan:
    """Decide how the Composition's current spec becomes its newest revision.

    An unchanged spec whose revision is already the newest needs nothing. A spec that matches an
    older revision (a rollback) bumps that revision's number. A new spec creates revision
    ``max + 1`` named ``<composition>-<hash[:7]>``.
    """
    name = _name(composition)
    if not name:
        raise PatchError("a composition needs metadata.name to have revisions")
    digest = composition_hash(composition)
    own = _revisions_of(name, revisions)
    latest = max((_revision_number(r) for r in own), default=0)
    for revision in own:
        if _labels(revision).get(COMPOSITION_HASH_LABEL) == digest[:63]:
            if _revision_number(revision) == latest:
                return RevisionPlan(revision, "none")
            bumped = json.loads(json.dumps(revision))
            bumped["spec"]["revision"] = latest + 1
            return RevisionPlan(bumped, "update")
    metadata = composition.get("metadata") or {}
    revision = {
        "apiVersion": REVISION_API_VERSION,
        "kind": "CompositionRevision",
        "metadata": {
            "name": f"{name}-{digest[:7]}",
            "labels": {
                **(metadata.get("labels") or {}),
                COMPOSITION_NAME_LABEL: name,
                COMPOSITION_HASH_LABEL: digest[:63],
            },
            "annotations": dict(metadata.get("annotations") or {}),
        },
        "spec": {**json.loads(json.dumps(composition.get("spec") or {})), "revision": latest + 1},
    }
    return RevisionPlan(revision, "create")


def select_revision(
    xr: Mapping[str, Any],
    revisions: Sequence[Mapping[str, Any]],
    *,
    composition_name: str,
    xrd: Mapping[str, Any] | None = None,
) -> RevisionSelection:
    """Pick the CompositionRevision ``xr`` renders with, following its update policy."""
    fields = crossplane_spec(xr)
    default_policy = ((xrd or {}).get("spec") or {}).get("defaultCompositionUpdatePolicy") or "Automatic"
    raw_policy = fields.get("compositionUpdatePolicy") or default_policy
    if raw_policy not in ("Automatic", "Manual"):
        raise PatchError(f"compositionUpdatePolicy {raw_policy!r} is invalid; use Automatic or Manual")
    policy: Literal["Automatic", "Manual"] = "Manual" if raw_policy == "Manual" else "Automatic"
    candidates = _revisions_of(composition_name, revisions)
    match_labels = dict((fields.get("compositionRevisionSelector") or {}).get("matchLabels") or {})
    candidates = [r for r in candidates if all(_labels(r).get(k) == v for k, v in match_labels.items())]
    pinned = (fields.get("compositionRevisionRef") or {}).get("name")
    if policy == "Manual" and pinned:
        for revision in revisions:
            if _name(revision) == pinned:
                return RevisionSelection(revision, "Manual", f"pinned by compositionRevisionRef {pinned!r}")
        raise RevisionNotFoundError(
            f"composition revision {pinned!r} pinned by {_name(xr)!r} does not exist; "
            "pin an existing revision or set compositionUpdatePolicy: Automatic"
        )
    if not candidates:
        wanted = f" with labels {match_labels}" if match_labels else ""
        raise RevisionNotFoundError(f"composition {composition_name!r} has no revisions{wanted}")
    latest = max(candidates, key=_revision_number)
    if policy == "Manual":
        why = f"Manual policy with no revision pinned yet: pin the latest, revision {_revision_number(latest)}"
    else:
        why = f"Automatic policy follows the latest revision, {_revision_number(latest)}"
    return RevisionSelection(latest, policy, why)


def composition_from_revision(revision: Mapping[str, Any]) -> dict[str, Any]:
    """The Composition document a revision snapshots (ready for ``render_composite``)."""
    spec = {k: v for k, v in (revision.get("spec") or {}).items() if k != "revision"}
    labels = _labels(revision)
    name = labels.get(COMPOSITION_NAME_LABEL) or _name(revision)
    return {
        "apiVersion": REVISION_API_VERSION,
        "kind": "Composition",
        "metadata": {"name": name, "labels": {k: v for k, v in labels.items() if not k.startswith("crossplane.io/")}},
        "spec": json.loads(json.dumps(spec)),
    }
