"""Readiness checks and connection details of composed resources.

Both read the *observed* composed resource (and, for connection details, its connection secret)
and never the desired one: a resource is ready when the provider says so, and a connection detail
exists once the provider has published it. Rules follow spec sheet sections 1.7 and 1.8; a missing
field is "not ready" or "skipped", never an error, because it may appear on a later reconcile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from . import fieldpaths, golang
from .errors import CompositionError, FieldNotFoundError, PatchError

__all__ = [
    "CONNECTION_DETAIL_TYPES",
    "DEFAULT_READINESS_CHECKS",
    "READINESS_CHECK_TYPES",
    "ReadinessOutcome",
    "extract_connection_details",
    "is_ready",
    "normalise_connection_detail",
]

READINESS_CHECK_TYPES: Final = (
    "None",
    "NonEmpty",
    "MatchString",
    "MatchInteger",
    "MatchTrue",
    "MatchFalse",
    "MatchCondition",
)
DEFAULT_READINESS_CHECKS: Final[tuple[Mapping[str, Any], ...]] = (
    {"type": "MatchCondition", "matchCondition": {"type": "Ready", "status": "True"}},
)
CONNECTION_DETAIL_TYPES: Final = ("FromConnectionSecretKey", "FromFieldPath", "FromValue")


@dataclass(frozen=True, slots=True)
class ReadinessOutcome:
    """Whether a composed resource is ready, and warnings about checks that could not be evaluated."""

    ready: bool
    warnings: tuple[str, ...] = ()


def condition_status(resource: Mapping[str, Any], condition_type: str) -> str:
    """The status of a condition of ``resource`` (``Unknown`` when it has none of that type)."""
    conditions = (resource.get("status") or {}).get("conditions") or []
    for condition in conditions:
        if isinstance(condition, Mapping) and condition.get("type") == condition_type:
            return str(condition.get("status", "Unknown"))
    return "Unknown"


def _check(resource: Mapping[str, Any], check: Mapping[str, Any]) -> bool:
    kind = check.get("type")
    if kind == "None":
        return True
    if kind == "MatchCondition":
        wanted = check.get("matchCondition") or {}
        status = condition_status(resource, str(wanted.get("type") or "Ready"))
        return status == str(wanted.get("status") or "True")
    if kind not in READINESS_CHECK_TYPES:
        raise PatchError(f"readiness check type {kind!r} is invalid; use one of {', '.join(READINESS_CHECK_TYPES)}")
    path = check.get("fieldPath")
    if not isinstance(path, str) or not path:
        raise PatchError(f"readiness check {kind} needs 'fieldPath'")
    try:
        value = fieldpaths.get_value(resource, path)
    except FieldNotFoundError:
        return False
    if kind == "NonEmpty":
        return True
    expected: dict[str, tuple[type, Any]] = {
        "MatchString": (str, check.get("matchString")),
        "MatchInteger": (int, check.get("matchInteger")),
        "MatchTrue": (bool, True),
        "MatchFalse": (bool, False),
    }
    wanted_type, wanted = expected[kind]
    if not isinstance(value, wanted_type) or (wanted_type is int and isinstance(value, bool)):
        raise PatchError(f"{path}: {kind} needs a {wanted_type.__name__} value, got {golang.go_type_name(value)}")
    return bool(value == wanted)


def is_ready(observed: Mapping[str, Any] | None, checks: Sequence[Mapping[str, Any]] = ()) -> ReadinessOutcome:
    """Evaluate ``checks`` (ANDed; default ``Ready=True``) on an observed composed resource."""
    if observed is None:
        return ReadinessOutcome(ready=False)
    warnings: list[str] = []
    ready = True
    for index, check in enumerate(checks or DEFAULT_READINESS_CHECKS):
        try:
            passed = _check(observed, check)
        except CompositionError as exc:
            warnings.append(f"readiness check {index}: {exc}")
            passed = False
        ready = ready and passed
    return ReadinessOutcome(ready=ready, warnings=tuple(warnings))


def normalise_connection_detail(detail: Mapping[str, Any], *, native: bool) -> dict[str, Any]:
    """Fill in the type and name a native Composition could omit; the function requires them."""
    out = dict(detail)
    if not out.get("type"):
        if not native:
            raise PatchError("connection detail needs 'type' (FromConnectionSecretKey, FromFieldPath or FromValue)")
        if "value" in out:
            out["type"] = "FromValue"
        elif out.get("fromConnectionSecretKey"):
            out["type"] = "FromConnectionSecretKey"
        elif out.get("fromFieldPath"):
            out["type"] = "FromFieldPath"
        else:
            out["type"] = "FromConnectionSecretKey"
    if out["type"] not in CONNECTION_DETAIL_TYPES:
        names = ", ".join(CONNECTION_DETAIL_TYPES)
        raise PatchError(f"connection detail type {out['type']!r} is invalid; use one of {names}")
    if not out.get("name"):
        if native and out["type"] == "FromConnectionSecretKey" and out.get("fromConnectionSecretKey"):
            out["name"] = out["fromConnectionSecretKey"]
        else:
            raise PatchError(f"connection detail of type {out['type']} needs 'name'")
    required = {"FromConnectionSecretKey": "fromConnectionSecretKey", "FromFieldPath": "fromFieldPath"}
    needed = required.get(out["type"])
    if needed and not out.get(needed):
        raise PatchError(f"connection detail {out['name']!r} of type {out['type']} needs {needed!r}")
    if out["type"] == "FromValue" and out.get("value") is None:
        raise PatchError(f"connection detail {out['name']!r} of type FromValue needs 'value'")
    return out


def extract_connection_details(
    observed: Mapping[str, Any],
    secret: Mapping[str, bytes],
    details: Sequence[Mapping[str, Any]],
) -> dict[str, bytes]:
    """Compute a composed resource's contribution to the composite's connection secret.

    ``details`` must be normalised (:func:`normalise_connection_detail`). Missing keys and fields
    are skipped silently: the provider may publish them later.
    """
    out: dict[str, bytes] = {}
    for detail in details:
        name, kind = str(detail["name"]), detail["type"]
        if kind == "FromValue":
            out[name] = str(detail["value"]).encode()
        elif kind == "FromConnectionSecretKey":
            key = detail["fromConnectionSecretKey"]
            if key in secret:
                out[name] = bytes(secret[key])
        else:
            try:
                value = fieldpaths.get_value(observed, detail["fromFieldPath"])
            except CompositionError:
                continue
            out[name] = (value if isinstance(value, str) else golang.go_json(value)).encode()
    return out
