"""Resolve a legacy Composition's ``spec.environment`` into the environment its patches read.

Crossplane 1.x builds the in-memory environment of an XR from EnvironmentConfigs: each entry of
``spec.environment.environmentConfigs`` references a config by name or selects configs by labels
(whose values may come from the XR), and the ``data`` of the chosen configs is deep-merged in
order over ``defaultData``, later configs winning. ``FromEnvironmentFieldPath`` patches then read
this object. Listing EnvironmentConfigs is IO, so the caller passes them in; this module only
chooses and merges, which keeps rendering pure.

With ``policy.resolve: IfNotPresent`` (the default) an XR keeps the configs chosen the first time
(``spec.environmentConfigRefs``); ``Always`` re-selects on every reconcile. The result carries the
chosen refs so the caller can persist them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from . import fieldpaths, golang
from .errors import EnvironmentConfigNotFoundError, FieldNotFoundError, FieldPathError

__all__ = ["ENVIRONMENT_API_VERSION", "EnvironmentResolution", "resolve_environment"]

ENVIRONMENT_API_VERSION: Final = "internal.crossplane.io/v1alpha1"
_FORCE: Final = fieldpaths.MergePolicy(keep_existing=False, append_slices=False)


@dataclass(frozen=True, slots=True)
class EnvironmentResolution:
    """The merged environment and the EnvironmentConfigs it came from, in merge order."""

    environment: dict[str, Any]
    refs: tuple[str, ...] = ()
    skipped: tuple[str, ...] = field(default=())


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _labels(xr: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> dict[str, str] | None:
    """The label selector of one entry; None when an Optional label's source is missing."""
    labels: dict[str, str] = {}
    for entry in entries:
        key = str(entry.get("key") or "")
        if (entry.get("type") or "FromCompositeFieldPath") == "Value":
            labels[key] = str(entry.get("value") or "")
            continue
        try:
            value = fieldpaths.get_value(xr, str(entry.get("valueFromFieldPath") or ""))
        except (FieldNotFoundError, FieldPathError):
            if (entry.get("fromFieldPathPolicy") or "Required") == "Optional":
                continue
            raise EnvironmentConfigNotFoundError(
                f"environment selector label {key!r} reads {entry.get('valueFromFieldPath')!r}, which the "
                f"composite {_name(xr)!r} does not have"
            ) from None
        labels[key] = value if isinstance(value, str) else golang.sprint_value(value)
    return labels


def _sort_key(path: str) -> Any:
    def key(config: Mapping[str, Any]) -> tuple[int, Any]:
        try:
            value = fieldpaths.get_value(config, path)
        except (FieldNotFoundError, FieldPathError):
            return (1, "")
        return (0, value if isinstance(value, int | float | str) else str(value))

    return key


def _select(
    entry: Mapping[str, Any], xr: Mapping[str, Any], configs: Sequence[Mapping[str, Any]], index: int
) -> list[Mapping[str, Any]]:
    selector = entry.get("selector") or {}
    labels = _labels(xr, selector.get("matchLabels") or [])
    matched = [
        c
        for c in configs
        if labels and all(((c.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in labels.items())
    ]
    matched.sort(key=_sort_key(str(selector.get("sortByFieldPath") or "metadata.name")))
    if (selector.get("mode") or "Single") == "Single":
        if len(matched) > 1:
            raise EnvironmentConfigNotFoundError(
                f"environmentConfigs[{index}] selects exactly one EnvironmentConfig but {len(matched)} match "
                f"{labels}; use mode: Multiple or narrow the labels"
            )
        return matched
    max_match = selector.get("maxMatch")
    if isinstance(max_match, int):
        matched = matched[:max_match]
    min_match = selector.get("minMatch")
    if isinstance(min_match, int) and len(matched) < min_match:
        raise EnvironmentConfigNotFoundError(
            f"environmentConfigs[{index}] needs at least {min_match} EnvironmentConfigs, {len(matched)} match {labels}"
        )
    return matched


def resolve_environment(
    environment_spec: Mapping[str, Any] | None,
    xr: Mapping[str, Any],
    configs: Sequence[Mapping[str, Any]],
) -> EnvironmentResolution:
    """Choose EnvironmentConfigs for ``xr`` and merge their data into one environment object."""
    spec = environment_spec or {}
    policy = spec.get("policy") or {}
    optional = (policy.get("resolution") or "Required") == "Optional"
    by_name = {_name(c): c for c in configs}
    stored = [r.get("name") for r in ((xr.get("spec") or {}).get("environmentConfigRefs") or [])]
    chosen: list[Mapping[str, Any]] = []
    skipped: list[str] = []
    if (policy.get("resolve") or "IfNotPresent") == "IfNotPresent" and stored:
        for name in stored:
            if name in by_name:
                chosen.append(by_name[str(name)])
            elif optional:
                skipped.append(str(name))
            else:
                raise EnvironmentConfigNotFoundError(f"EnvironmentConfig {name!r} chosen earlier does not exist")
    else:
        for index, entry in enumerate(spec.get("environmentConfigs") or []):
            kind = entry.get("type") or ("Selector" if "selector" in entry else "Reference")
            if kind == "Reference":
                name = str((entry.get("ref") or {}).get("name") or "")
                if name in by_name:
                    chosen.append(by_name[name])
                elif optional:
                    skipped.append(name)
                else:
                    raise EnvironmentConfigNotFoundError(
                        f"EnvironmentConfig {name!r} referenced by environmentConfigs[{index}] does not exist; "
                        "create it or set spec.environment.policy.resolution: Optional"
                    )
                continue
            matched = _select(entry, xr, configs, index)
            if not matched and not optional and (entry.get("selector") or {}).get("mode", "Single") == "Single":
                raise EnvironmentConfigNotFoundError(
                    f"environmentConfigs[{index}] selects no EnvironmentConfig; "
                    "label one to match or set spec.environment.policy.resolution: Optional"
                )
            chosen.extend(matched)
    merged: dict[str, Any] = fieldpaths.json_roundtrip(dict(spec.get("defaultData") or {}))
    for config in chosen:
        merged = fieldpaths.merge_values(merged, fieldpaths.json_roundtrip(dict(config.get("data") or {})), _FORCE)
    environment = {"apiVersion": ENVIRONMENT_API_VERSION, "kind": "Environment", **merged}
    return EnvironmentResolution(environment, tuple(_name(c) for c in chosen), tuple(skipped))
