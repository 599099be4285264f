"""Patches: copy (and transform) values between the composite, composed resources and the environment.

A patch is read from a Composition as a plain dict and normalised into :class:`Patch`: PatchSet
references are expanded in place (transforms and policies inside a set are kept, as the function
does), ``toFieldPath`` defaults to ``fromFieldPath``, and the legacy ``mergeOptions`` become a
:class:`~.fieldpaths.MergePolicy`. :func:`apply_patch` then runs one patch between a *source* and
a *target* object that the caller picks by direction (spec sheet 1.3): ``From*`` patches read
observed state and write desired state; ``To*`` patches go the other way.

A missing source raises :class:`FieldNotFoundError`; whether that skips the patch (``Optional``)
or drops the resource (``Required``) is the renderer's decision, because it depends on whether
the composed resource already exists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from . import fieldpaths, golang, transforms
from .errors import CompositionError, FieldNotFoundError, FieldPathError, PatchError

__all__ = [
    "COMBINE_TYPES",
    "ENVIRONMENT_PATCH_TYPES",
    "FROM_COMPOSITE_TYPES",
    "FROM_ENVIRONMENT_TYPES",
    "PATCH_TYPES",
    "TO_COMPOSITE_TYPES",
    "TO_ENVIRONMENT_TYPES",
    "TO_FIELD_PATH_POLICIES",
    "AppliedPatch",
    "Patch",
    "apply_patch",
    "normalise_patch",
    "normalise_patches",
]

FROM_COMPOSITE_TYPES: Final = frozenset({"FromCompositeFieldPath", "CombineFromComposite"})
TO_COMPOSITE_TYPES: Final = frozenset({"ToCompositeFieldPath", "CombineToComposite"})
FROM_ENVIRONMENT_TYPES: Final = frozenset({"FromEnvironmentFieldPath", "CombineFromEnvironment"})
TO_ENVIRONMENT_TYPES: Final = frozenset({"ToEnvironmentFieldPath", "CombineToEnvironment"})
COMBINE_TYPES: Final = frozenset(
    {"CombineFromComposite", "CombineToComposite", "CombineFromEnvironment", "CombineToEnvironment"}
)
PATCH_TYPES: Final = (
    "FromCompositeFieldPath",
    "ToCompositeFieldPath",
    "CombineFromComposite",
    "CombineToComposite",
    "FromEnvironmentFieldPath",
    "ToEnvironmentFieldPath",
    "CombineFromEnvironment",
    "CombineToEnvironment",
    "PatchSet",
)
ENVIRONMENT_PATCH_TYPES: Final = frozenset(
    {
        "FromCompositeFieldPath",
        "ToCompositeFieldPath",
        "CombineFromComposite",
        "CombineToComposite",
        "FromEnvironmentFieldPath",
        "ToEnvironmentFieldPath",
    }
)

TO_FIELD_PATH_POLICIES: Final[dict[str, fieldpaths.MergePolicy | None]] = {
    "Replace": None,
    "MergeObjects": fieldpaths.MergePolicy(keep_existing=True, append_slices=False),
    "MergeObject": fieldpaths.MergePolicy(keep_existing=True, append_slices=False),
    "MergeObjectsAppendArrays": fieldpaths.MergePolicy(keep_existing=True, append_slices=True),
    "ForceMergeObjects": fieldpaths.MergePolicy(keep_existing=False, append_slices=False),
    "ForceMergeObjectsAppendArrays": fieldpaths.MergePolicy(keep_existing=False, append_slices=True),
    "AppendArray": fieldpaths.MergePolicy(keep_existing=False, append_slices=True),
}


@dataclass(frozen=True, slots=True)
class Patch:
    """One normalised patch, ready to run.

    ``label`` locates it for messages (``patch 2`` or ``patch 2 (patch set 'region' patch 0)``).
    """

    type: str
    index: int
    label: str
    from_field_path: str | None = None
    to_field_path: str | None = None
    combine_paths: tuple[str, ...] = ()
    combine_fmt: str | None = None
    transforms: tuple[Mapping[str, Any], ...] = ()
    required: bool = False
    merge: fieldpaths.MergePolicy | None = None
    patch_set: str | None = None
    native: bool = False

    @property
    def source_paths(self) -> tuple[str, ...]:
        """Every field path this patch reads."""
        if self.type in COMBINE_TYPES:
            return self.combine_paths
        return (self.from_field_path,) if self.from_field_path else ()


@dataclass(frozen=True, slots=True)
class AppliedPatch:
    """What one patch wrote: the concrete target paths and the value written there."""

    patch: Patch
    paths: tuple[str, ...]
    value: Any = field(compare=False)


def _merge_policy(raw: Mapping[str, Any], *, native: bool, where: str) -> fieldpaths.MergePolicy | None:
    policy = raw.get("policy") or {}
    if not isinstance(policy, Mapping):
        raise PatchError(f"{where}: 'policy' must be an object")
    to_policy = policy.get("toFieldPath")
    if to_policy is not None:
        if to_policy not in TO_FIELD_PATH_POLICIES:
            names = ", ".join(TO_FIELD_PATH_POLICIES)
            raise PatchError(f"{where}: policy.toFieldPath {to_policy!r} is invalid; use one of {names}")
        return TO_FIELD_PATH_POLICIES[to_policy]
    options = policy.get("mergeOptions")
    if options is None:
        return None
    if not native:
        raise PatchError(f"{where}: policy.mergeOptions is the legacy form; use policy.toFieldPath")
    return fieldpaths.MergePolicy(
        keep_existing=bool(options.get("keepMapValues")), append_slices=bool(options.get("appendSlice"))
    )


def normalise_patch(raw: Mapping[str, Any], *, index: int, label: str, native: bool) -> Patch:
    """Validate one raw patch (not a PatchSet reference) and normalise it."""
    kind = raw.get("type") or "FromCompositeFieldPath"
    if kind not in PATCH_TYPES or kind == "PatchSet":
        raise PatchError(f"{label}: patch type {kind!r} is invalid; use one of {', '.join(PATCH_TYPES)}")
    policy = raw.get("policy") or {}
    from_policy = policy.get("fromFieldPath") if isinstance(policy, Mapping) else None
    if from_policy not in (None, "Optional", "Required"):
        raise PatchError(f"{label}: policy.fromFieldPath {from_policy!r} is invalid; use Optional or Required")
    steps = raw.get("transforms") or []
    if not isinstance(steps, list):
        raise PatchError(f"{label}: 'transforms' must be a list")
    common: dict[str, Any] = {
        "type": kind,
        "index": index,
        "label": label,
        "transforms": tuple(steps),
        "required": from_policy == "Required",
        "merge": _merge_policy(raw, native=native, where=label),
        "native": native,
    }
    to_path = raw.get("toFieldPath")
    if kind in COMBINE_TYPES:
        return _normalise_combine(raw, common, to_path, label)
    from_path = raw.get("fromFieldPath")
    if not isinstance(from_path, str) or not from_path:
        raise PatchError(f"{label}: {kind} patch needs 'fromFieldPath'")
    _check_path(from_path, label, "fromFieldPath", wildcard=False)
    to_path = to_path or from_path
    _check_path(to_path, label, "toFieldPath", wildcard=True)
    return Patch(from_field_path=from_path, to_field_path=to_path, **common)


def _normalise_combine(raw: Mapping[str, Any], common: dict[str, Any], to_path: Any, label: str) -> Patch:
    combine = raw.get("combine")
    if not isinstance(combine, Mapping):
        raise PatchError(f"{label}: {common['type']} patch needs 'combine'")
    variables = combine.get("variables") or []
    paths = tuple(str(v.get("fromFieldPath") or "") for v in variables if isinstance(v, Mapping))
    if not paths or len(paths) != len(variables) or not all(paths):
        raise PatchError(f"{label}: combine needs at least one variable, each with 'fromFieldPath'")
    for path in paths:
        _check_path(path, label, "combine.variables[].fromFieldPath", wildcard=False)
    if combine.get("strategy") != "string":
        raise PatchError(
            f"{label}: combine strategy {combine.get('strategy')!r} is invalid; only 'string' is supported"
        )
    fmt = (combine.get("string") or {}).get("fmt")
    if not isinstance(fmt, str):
        raise PatchError(f"{label}: combine strategy 'string' needs 'string.fmt'")
    if not isinstance(to_path, str) or not to_path:
        raise PatchError(f"{label}: {common['type']} patch needs 'toFieldPath'")
    _check_path(to_path, label, "toFieldPath", wildcard=True)
    # The native engine applied no merge options to Combine patches; the function does.
    if common["native"]:
        common["merge"] = None
    return Patch(to_field_path=to_path, combine_paths=paths, combine_fmt=fmt, **common)


def _check_path(path: str, label: str, what: str, *, wildcard: bool) -> None:
    try:
        segments = fieldpaths.parse_path(path)
    except FieldPathError as exc:
        raise PatchError(f"{label}: {what}: {exc}") from exc
    if not wildcard and "*" in segments:
        raise PatchError(f"{label}: {what} {path!r} may not contain a wildcard; only toFieldPath may")


def normalise_patches(
    raw_patches: Sequence[Mapping[str, Any]],
    patch_sets: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    native: bool,
) -> list[Patch]:
    """Expand PatchSet references in place and normalise every patch."""
    out: list[Patch] = []
    for index, raw in enumerate(raw_patches):
        label = f"patch {index}"
        if raw.get("type") != "PatchSet":
            out.append(normalise_patch(raw, index=index, label=label, native=native))
            continue
        name = raw.get("patchSetName")
        if not isinstance(name, str) or not name:
            raise PatchError(f"{label}: PatchSet patch needs 'patchSetName'")
        if name not in patch_sets:
            known = ", ".join(sorted(patch_sets)) or "none"
            raise PatchError(f"{label}: patch set {name!r} is not defined (defined: {known})")
        for inner_index, inner in enumerate(patch_sets[name]):
            inner_label = f"{label} (patch set {name!r} patch {inner_index})"
            if inner.get("type") == "PatchSet":
                raise PatchError(f"{inner_label}: a patch set may not contain a PatchSet patch")
            patch = normalise_patch(inner, index=index, label=inner_label, native=native)
            out.append(dataclasses.replace(patch, patch_set=name))
    return out


def _source_value(patch: Patch, source: Any) -> Any:
    if patch.type in COMBINE_TYPES:
        values = [fieldpaths.get_value(source, path) for path in patch.combine_paths]
        assert patch.combine_fmt is not None
        return golang.sprintf(patch.combine_fmt, *values)
    assert patch.from_field_path is not None
    return fieldpaths.get_value(source, patch.from_field_path)


def apply_patch(patch: Patch, *, source: Any, target: dict[str, Any]) -> AppliedPatch:
    """Read ``source``, transform, and write into ``target`` (mutated in place).

    Raises :class:`FieldNotFoundError` when a source field is missing (``None`` source included:
    a composed resource that does not exist yet) and :class:`CompositionError` for anything else.
    """
    if source is None:
        raise FieldNotFoundError("the source object does not exist yet")
    value = _source_value(patch, source)
    value = transforms.apply_transforms(value, patch.transforms, native=patch.native)
    assert patch.to_field_path is not None
    expansions = fieldpaths.expand_wildcards(target, patch.to_field_path)
    if not expansions:
        raise PatchError(f"cannot expand ToFieldPath {patch.to_field_path!r}: no matching fields in the target")
    written: list[str] = []
    for segments in expansions:
        try:
            if patch.merge is None:
                fieldpaths.set_value(target, segments, value)
            else:
                fieldpaths.merge_value(target, segments, value, patch.merge)
        except CompositionError as exc:
            raise exc.wrap(f"cannot write {fieldpaths.format_path(segments)}") from exc
        written.append(fieldpaths.format_path(segments))
    return AppliedPatch(patch=patch, paths=tuple(written), value=value)
