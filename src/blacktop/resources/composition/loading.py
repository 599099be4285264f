"""Load a Composition document (either dialect) into a validated, normalised structure.

Crossplane accepts two shapes: the legacy ``spec.resources`` (removed in Crossplane v2, kept in
blacktop as an import format) and ``mode: Pipeline`` with function steps. Both are normalised into
one :class:`Composition` whose steps the renderer runs; a legacy Composition becomes a single
implicit patch-and-transform step with ``native=True`` (which infers omitted types and names).

Loading validates everything that can be checked without an XR (patch and transform settings,
field path syntax, regular expressions, connection details, readiness checks) and collects every
problem with its field path before raising once. Features blacktop does not implement (other
composition functions, the alpha ``spec.functions``) raise :class:`UnsupportedFeatureError`
naming them, so a platform team learns up front what will not work.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from blacktop.kernel.errors import Problem

from . import fieldpaths, patches, readiness, transforms
from .errors import CompositionError, InvalidCompositionError, UnsupportedFeatureError

__all__ = [
    "AUTO_READY_FUNCTION",
    "COMPOSITION_API_VERSION",
    "PT_INPUT_API_VERSION",
    "Composition",
    "PatchAndTransform",
    "Step",
    "Template",
    "load_composition",
]

COMPOSITION_API_VERSION: Final = "apiextensions.crossplane.io/v1"
PT_INPUT_API_VERSION: Final = "pt.fn.crossplane.io/v1beta1"
PT_INPUT_KIND: Final = "Resources"
AUTO_READY_FUNCTION: Final = "function-auto-ready"
_PT_INPUT_FIELDS: Final = frozenset(
    {"apiVersion", "kind", "metadata", "resources", "patchSets", "environment", "writeConnectionSecretToRef"}
)
_TEMPLATE_FIELDS: Final = frozenset({"name", "base", "patches", "connectionDetails", "readinessChecks"})
_NATIVE_TEMPLATE_FIELDS: Final = _TEMPLATE_FIELDS
_SCHEMA_VALIDATION_ANNOTATION: Final = "crossplane.io/composition-schema-aware-validation-mode"

StepKind = Literal["patch-and-transform", "auto-ready", "external"]


@dataclass(frozen=True, slots=True)
class Template:
    """One resource template: a base object plus the patches, details and checks applied to it."""

    name: str
    base: Mapping[str, Any] | None
    patches: tuple[patches.Patch, ...] = ()
    connection_details: tuple[Mapping[str, Any], ...] = ()
    readiness_checks: tuple[Mapping[str, Any], ...] = ()
    named: bool = True


@dataclass(frozen=True, slots=True)
class PatchAndTransform:
    """The input of a patch-and-transform step (a pipeline ``Resources`` input or legacy spec)."""

    resources: tuple[Template, ...]
    environment_patches: tuple[patches.Patch, ...] = ()
    native: bool = False
    write_connection_secret_to_ref: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One pipeline step; ``kind`` says whether blacktop runs it itself or needs a runner."""

    name: str
    function: str
    kind: StepKind
    input: Mapping[str, Any] | None = None
    patch_and_transform: PatchAndTransform | None = None


@dataclass(frozen=True, slots=True)
class Composition:
    """A validated Composition, in either dialect."""

    name: str
    composite_api_version: str
    composite_kind: str
    mode: Literal["Resources", "Pipeline"]
    steps: tuple[Step, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    write_connection_secrets_to_namespace: str | None = None
    environment: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def native(self) -> bool:
        """Whether this is a legacy ``spec.resources`` Composition."""
        return self.mode == "Resources"


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.unsupported: list[tuple[str, Problem]] = []
        self.warnings: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path=path, message=message))

    def unsupported_feature(self, path: str, feature: str, message: str) -> None:
        self.unsupported.append((feature, Problem(path=path, message=message)))


def load_composition(document: Mapping[str, Any], *, functions: Collection[str] = ()) -> Composition:
    """Validate a Composition document and normalise it for rendering.

    ``functions`` names the composition functions (``functionRef.name``) the caller can run
    itself; patch-and-transform and auto-ready steps are built in. Raises
    :class:`UnsupportedFeatureError` for anything else blacktop cannot run, and
    :class:`InvalidCompositionError` listing every malformed field.
    """
    found = _Collector()
    name = str((document.get("metadata") or {}).get("name") or "")
    if document.get("kind") != "Composition":
        found.add("kind", f"kind must be Composition, got {document.get('kind')!r}")
    spec = document.get("spec")
    if not isinstance(spec, Mapping):
        found.add("spec", "spec is required")
        spec = {}
    type_ref = spec.get("compositeTypeRef") or {}
    for key in ("apiVersion", "kind"):
        if not type_ref.get(key):
            found.add(f"spec.compositeTypeRef.{key}", f"compositeTypeRef.{key} is required")
    mode: Literal["Resources", "Pipeline"] = "Pipeline" if "pipeline" in spec else "Resources"
    raw_mode = spec.get("mode")
    if raw_mode in ("Resources", "Pipeline"):
        mode = raw_mode
    elif raw_mode is not None:
        found.add("spec.mode", f"mode {raw_mode!r} is invalid; use Resources or Pipeline")
    steps: list[Step] = []
    if "functions" in spec:
        found.unsupported_feature(
            "spec.functions", "spec.functions", "alpha composition functions (spec.functions) are not supported"
        )
    if mode == "Pipeline":
        steps = _load_pipeline(spec.get("pipeline"), found, functions)
    elif mode == "Resources":
        pt = _load_pt(spec, "spec", found, native=True)
        steps = [Step(name="resources", function="", kind="patch-and-transform", patch_and_transform=pt)]
    annotations = (document.get("metadata") or {}).get("annotations") or {}
    if annotations.get(_SCHEMA_VALIDATION_ANNOTATION) in ("strict", "warn"):
        found.warnings.append(
            f"schema-aware validation ({_SCHEMA_VALIDATION_ANNOTATION}: "
            f"{annotations[_SCHEMA_VALIDATION_ANNOTATION]}) is not performed by blacktop"
        )
    _raise_if_problems(name, found)
    # Crossplane 1.x resolves spec.environment for both dialects and hands it to the pipeline.
    environment = spec.get("environment")
    return Composition(
        name=name,
        composite_api_version=str(type_ref["apiVersion"]),
        composite_kind=str(type_ref["kind"]),
        mode=mode,
        steps=tuple(steps),
        labels=dict((document.get("metadata") or {}).get("labels") or {}),
        write_connection_secrets_to_namespace=spec.get("writeConnectionSecretsToNamespace"),
        environment=copy.deepcopy(environment) if isinstance(environment, Mapping) else None,
        warnings=tuple(found.warnings),
        document=document,
    )


def _raise_if_problems(name: str, found: _Collector) -> None:
    if found.unsupported:
        features = sorted({feature for feature, _ in found.unsupported})
        raise UnsupportedFeatureError(
            f"composition {name!r} uses features blacktop does not support: {', '.join(features)}; "
            "blacktop runs function-patch-and-transform and function-auto-ready itself; rewrite the steps "
            "with them, or register a runner for the other functions",
            feature=features[0],
            problems=[p for _, p in found.unsupported] + found.problems,
        )
    if found.problems:
        first = found.problems[0]
        more = f" (and {len(found.problems) - 1} more)" if len(found.problems) > 1 else ""
        raise InvalidCompositionError(
            f"composition {name!r} is invalid: {first.path}: {first.message}{more}", problems=found.problems
        )


def _load_pipeline(pipeline: Any, found: _Collector, functions: Collection[str]) -> list[Step]:
    if not isinstance(pipeline, list) or not pipeline:
        found.add("spec.pipeline", "a Pipeline composition needs at least one step")
        return []
    steps: list[Step] = []
    for index, raw in enumerate(pipeline):
        path = f"spec.pipeline[{index}]"
        step_name = str(raw.get("step") or "")
        function = str((raw.get("functionRef") or {}).get("name") or "")
        if not step_name:
            found.add(f"{path}.step", "step name is required")
        if not function:
            found.add(f"{path}.functionRef.name", "functionRef.name is required")
        step_input = raw.get("input")
        is_pt = isinstance(step_input, Mapping) and (
            step_input.get("apiVersion") == PT_INPUT_API_VERSION and step_input.get("kind") == PT_INPUT_KIND
        )
        if is_pt:
            pt = _load_pt(step_input, f"{path}.input", found, native=False)
            steps.append(Step(step_name, function, "patch-and-transform", step_input, pt))
        elif function in functions:
            steps.append(Step(step_name, function, "external", step_input))
        elif function.endswith(AUTO_READY_FUNCTION):
            steps.append(Step(step_name, function, "auto-ready", step_input))
        else:
            found.unsupported_feature(
                f"{path}.functionRef.name",
                f"composition function {function!r}",
                f"step {step_name!r} runs composition function {function!r}, which blacktop cannot run; "
                "only function-patch-and-transform and function-auto-ready are built in",
            )
        if raw.get("credentials"):
            found.unsupported_feature(
                f"{path}.credentials", "function credentials", "pipeline step credentials are not supported"
            )
    return steps


def _load_pt(spec: Mapping[str, Any], path: str, found: _Collector, *, native: bool) -> PatchAndTransform:
    if not native:
        for key in sorted(set(spec) - _PT_INPUT_FIELDS):
            found.unsupported_feature(
                f"{path}.{key}", f"patch-and-transform input field {key!r}", f"input field {key!r} is not supported"
            )
    patch_sets: dict[str, Sequence[Mapping[str, Any]]] = {}
    for index, patch_set in enumerate(spec.get("patchSets") or []):
        set_name = patch_set.get("name")
        if not set_name:
            found.add(f"{path}.patchSets[{index}].name", "patch set name is required")
            continue
        patch_sets[str(set_name)] = list(patch_set.get("patches") or [])
    templates: list[Template] = []
    seen: set[str] = set()
    for index, raw in enumerate(spec.get("resources") or []):
        template = _load_template(raw, f"{path}.resources[{index}]", index, patch_sets, found, native=native)
        if template is None:
            continue
        if template.name in seen:
            found.add(f"{path}.resources[{index}].name", f"resource name {template.name!r} is used twice")
        seen.add(template.name)
        templates.append(template)
    env_patches = _load_patches(
        ((spec.get("environment") or {}).get("patches") or []), f"{path}.environment", {}, found, native=native
    )
    for index, patch in enumerate(env_patches):
        if patch.type not in patches.ENVIRONMENT_PATCH_TYPES:
            found.add(
                f"{path}.environment.patches[{index}].type", f"{patch.type} is not allowed in environment patches"
            )
    ref = spec.get("writeConnectionSecretToRef")
    return PatchAndTransform(
        resources=tuple(templates),
        environment_patches=tuple(env_patches),
        native=native,
        write_connection_secret_to_ref=ref if isinstance(ref, Mapping) else None,
    )


def _load_template(
    raw: Mapping[str, Any],
    path: str,
    index: int,
    patch_sets: Mapping[str, Sequence[Mapping[str, Any]]],
    found: _Collector,
    *,
    native: bool,
) -> Template | None:
    name = raw.get("name")
    if not name and not native:
        found.add(f"{path}.name", "resource name is required")
        return None
    base = raw.get("base")
    if base is None and native:
        found.add(f"{path}.base", "base is required in a legacy (spec.resources) Composition")
    elif base is not None and not isinstance(base, Mapping):
        found.add(f"{path}.base", "base must be an object")
        base = None
    for key in sorted(set(raw) - _TEMPLATE_FIELDS):
        found.add(f"{path}.{key}", f"unknown resource template field {key!r}")
    template_patches = _load_patches(raw.get("patches") or [], path, patch_sets, found, native=native)
    details: list[Mapping[str, Any]] = []
    for d_index, detail in enumerate(raw.get("connectionDetails") or []):
        try:
            details.append(readiness.normalise_connection_detail(detail, native=native))
        except CompositionError as exc:
            found.add(f"{path}.connectionDetails[{d_index}]", str(exc))
    checks = list(raw.get("readinessChecks") or [])
    for c_index, check in enumerate(checks):
        if check.get("type") not in readiness.READINESS_CHECK_TYPES:
            found.add(
                f"{path}.readinessChecks[{c_index}].type", f"readiness check type {check.get('type')!r} is invalid"
            )
    return Template(
        name=str(name) if name else str(index),
        base=fieldpaths.json_roundtrip(base) if base is not None else None,
        patches=tuple(template_patches),
        connection_details=tuple(details),
        readiness_checks=tuple(checks),
        named=bool(name),
    )


def _load_patches(
    raw_patches: Sequence[Mapping[str, Any]],
    path: str,
    patch_sets: Mapping[str, Sequence[Mapping[str, Any]]],
    found: _Collector,
    *,
    native: bool,
) -> list[patches.Patch]:
    out: list[patches.Patch] = []
    for index, raw in enumerate(raw_patches):
        where = f"{path}.patches[{index}]"
        try:
            normalised = patches.normalise_patches([raw], patch_sets, native=native)
        except CompositionError as exc:
            found.add(where, str(exc).removeprefix("patch 0: ").replace("patch 0 (", "("))
            continue
        for patch in normalised:
            for t_index, transform in enumerate(patch.transforms):
                for message in transforms.transform_problems(transform, native=native):
                    found.add(f"{where}.transforms[{t_index}]", message)
        out.extend(_relabel(p, index) for p in normalised)
    return out


def _relabel(patch: patches.Patch, index: int) -> patches.Patch:
    return dataclasses.replace(patch, index=index, label=patch.label.replace("patch 0", f"patch {index}", 1))
