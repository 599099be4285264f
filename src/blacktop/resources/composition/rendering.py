"""Render a composite resource (XR) with a Composition into composed resources.

This is ``crossplane render`` as a pure function: the XR, the Composition, the observed composed
resources (and their connection secrets) and the environment go in; the desired composed
resources, the desired XR, the aggregated connection details, readiness and events come out. No
clock, no randomness, no IO: names are left as ``generateName`` (see :func:`compose_name`), and the
Ready condition's timestamp is given by the caller.

Both dialects run through the same pipeline: a legacy ``spec.resources`` Composition is one
implicit patch-and-transform step. Patch-and-transform and function-auto-ready are built in; any
other function needs a runner from the caller (``functions=``), which receives and returns
``RunFunctionRequest``/``RunFunctionResponse``-shaped dicts.

Every composed field remembers what produced it (:class:`FieldSource`): the base template, a
patch (with its label, type, patch set and source paths), a function step, the observed object or
Crossplane's own metadata. ``blacktop explain`` reads this provenance.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping, Sequence
from typing import Any

from . import fieldpaths, loading, patches, readiness
from .errors import CompositionError, FieldNotFoundError, PatchError, UnsupportedFeatureError
from .functions import FunctionRunner, run_auto_ready, run_function
from .results import (
    CLAIM_NAME_LABEL,
    CLAIM_NAMESPACE_LABEL,
    COMPOSITE_LABEL,
    ENVIRONMENT_CONTEXT_KEY,
    NAME_SUFFIX_ALPHABET,
    RESOURCE_NAME_ANNOTATION,
    ComposedResource,
    FieldSource,
    RenderEvent,
    RenderResult,
    compose_name,
)
from .state import Desired, RenderState, leaf_provenance, record_provenance

__all__ = [
    "CLAIM_NAMESPACE_LABEL",
    "CLAIM_NAME_LABEL",
    "COMPOSITE_LABEL",
    "ENVIRONMENT_CONTEXT_KEY",
    "NAME_SUFFIX_ALPHABET",
    "RESOURCE_NAME_ANNOTATION",
    "ComposedResource",
    "FieldSource",
    "FunctionRunner",
    "RenderEvent",
    "RenderResult",
    "compose_name",
    "render_composite",
]


def _patch_source(patch: patches.Patch, step: str | None) -> FieldSource:
    return FieldSource(
        origin="patch",
        step=step,
        patch=patch.label,
        patch_type=patch.type,
        patch_set=patch.patch_set,
        from_field_paths=patch.source_paths,
    )


# -- patch-and-transform ---------------------------------------------------------------------------


def _run_patch(
    run: RenderState,
    patch: patches.Patch,
    *,
    source: Any,
    target: dict[str, Any],
    provenance: dict[str, FieldSource] | None,
    context: str,
    step: str | None,
) -> bool:
    """Run one patch; return False when a Required source is missing (Optional ones are skipped)."""
    try:
        applied = patches.apply_patch(patch, source=source, target=target)
    except FieldNotFoundError:
        return not patch.required
    except CompositionError as exc:
        raise exc.wrap(f"{patch.label} of {context}") from exc
    if provenance is not None:
        record_provenance(provenance, applied.paths, _patch_source(patch, step))
    return True


def _environment_patches(
    run: RenderState, pt: loading.PatchAndTransform, env: dict[str, Any], step: str | None
) -> None:
    """Environment patches run in list order before any template; a missing Required source is fatal."""
    to_env = {"FromCompositeFieldPath", "ToEnvironmentFieldPath", "CombineFromComposite"}
    for patch in pt.environment_patches:
        into_env = patch.type in to_env
        source, target = (run.observed_xr, env) if into_env else (env, run.desired_xr)
        provenance = None if into_env else run.xr_provenance
        if not _run_patch(
            run, patch, source=source, target=target, provenance=provenance, context="the environment", step=step
        ):
            raise PatchError(f"environment {patch.label}: required field {', '.join(patch.source_paths)} is missing")


def _template_start(run: RenderState, template: loading.Template, step: str | None) -> Desired:
    if template.base is not None:
        resource = copy.deepcopy(dict(template.base))
        return Desired(resource, None, leaf_provenance(resource, FieldSource("base", step=step)))
    previous = run.desired.get(template.name)
    if previous is None:
        raise PatchError(
            f"composed resource {template.name!r} has no base template, and was not produced by a previous "
            "function in the pipeline"
        )
    return Desired(copy.deepcopy(previous.resource), None, dict(previous.provenance))


def _observed_side(
    run: RenderState, template: loading.Template, desired: Desired, observed: dict[str, Any], step: str | None
) -> None:
    """Keep the association with the observed resource; read its connection details and readiness."""
    metadata = desired.resource.setdefault("metadata", {})
    for key in ("namespace", "name"):
        value = (observed.get("metadata") or {}).get(key)
        if value:
            metadata[key] = value
            desired.provenance[f"metadata.{key}"] = FieldSource("observed", step=step)
        else:
            metadata.pop(key, None)
    secret = run.observed_secrets.get(template.name) or {}
    run.connection.update(readiness.extract_connection_details(observed, secret, template.connection_details))
    outcome = readiness.is_ready(observed, template.readiness_checks)
    for warning in outcome.warnings:
        run.warn(f"cannot check readiness of composed resource {template.name!r}: {warning}", step)
    if outcome.ready:
        desired.ready = True


def _patch_ends(
    run: RenderState, patch: patches.Patch, desired: Desired, observed: dict[str, Any] | None, env: dict[str, Any]
) -> tuple[Any, dict[str, Any], dict[str, FieldSource] | None]:
    """Source, target and provenance map of one template patch (spec sheet 1.3)."""
    if patch.type in patches.TO_COMPOSITE_TYPES:
        return observed, run.desired_xr, run.xr_provenance
    if patch.type in patches.TO_ENVIRONMENT_TYPES:
        return observed, env, None
    source = run.observed_xr if patch.type in patches.FROM_COMPOSITE_TYPES else env
    return source, desired.resource, desired.provenance


def _render_template(run: RenderState, template: loading.Template, env: dict[str, Any], step: str | None) -> None:
    """Render one template; patches run in list order, as the function runs them."""
    desired = _template_start(run, template, step)
    observed = run.observed.get(template.name)
    if observed is not None:
        _observed_side(run, template, desired, observed, step)
    context = f"resource {template.name!r}"
    for patch in template.patches:
        to_composed = patch.type in patches.FROM_COMPOSITE_TYPES | patches.FROM_ENVIRONMENT_TYPES
        if observed is None and not to_composed:
            continue  # patching from a composed resource that does not exist yet
        source, target, provenance = _patch_ends(run, patch, desired, observed, env)
        if _run_patch(run, patch, source=source, target=target, provenance=provenance, context=context, step=step):
            continue
        missing = ", ".join(patch.source_paths)
        if to_composed and observed is None:
            run.warn(
                f"not adding new composed resource {template.name!r}: {patch.label} is Required and "
                f"{missing} is missing",
                step,
            )
            run.dropped.append(template.name)
            run.composite_ready = False
            return
        run.warn(f"{patch.label} of {context}: required field {missing} is missing; the patch is skipped", step)
    run.desired[template.name] = desired


def _run_patch_and_transform(run: RenderState, pt: loading.PatchAndTransform, step: str | None) -> None:
    env = copy.deepcopy(run.context.get(ENVIRONMENT_CONTEXT_KEY) or {})
    env.setdefault("apiVersion", "internal.crossplane.io/v1alpha1")
    env.setdefault("kind", "Environment")
    _environment_patches(run, pt, env, step)
    for template in pt.resources:
        _render_template(run, template, env, step)
    run.context[ENVIRONMENT_CONTEXT_KEY] = env


# -- entry point -----------------------------------------------------------------------------------


def _identity(xr: Mapping[str, Any]) -> dict[str, Any]:
    metadata = xr.get("metadata") or {}
    identity: dict[str, Any] = {"apiVersion": xr.get("apiVersion"), "kind": xr.get("kind"), "metadata": {}}
    for key in ("name", "namespace"):
        if metadata.get(key):
            identity["metadata"][key] = metadata[key]
    return identity


def _index_observed(observed: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for obj in observed:
        name = ((obj.get("metadata") or {}).get("annotations") or {}).get(RESOURCE_NAME_ANNOTATION)
        if name:
            out[str(name)] = fieldpaths.json_roundtrip(dict(obj))
    return out


def render_composite(
    xr: Mapping[str, Any],
    composition: Mapping[str, Any] | loading.Composition,
    *,
    observed: Sequence[Mapping[str, Any]] = (),
    observed_connection_details: Mapping[str, Mapping[str, bytes]] | None = None,
    environment: Mapping[str, Any] | None = None,
    functions: Mapping[str, FunctionRunner] | None = None,
) -> RenderResult:
    """Render ``xr`` with ``composition`` (a document or a loaded :class:`~.loading.Composition`).

    ``observed`` are the composed resources that exist, matched to templates by their
    ``crossplane.io/composition-resource-name`` annotation; ``observed_connection_details`` maps a
    template name to its connection secret. ``environment`` is the resolved environment (the
    caller resolves EnvironmentConfigs). ``functions`` runs composition functions other than the
    built-in ones, by ``functionRef.name``.

    Raises :class:`~.errors.UnsupportedFeatureError` for features blacktop cannot run, and a
    :class:`~.errors.CompositionError` whose message locates the failing patch or transform
    (``patch 2 of resource 'rds-instance': transform 0: ...``).
    """
    runners = dict(functions or {})
    loaded = (
        composition
        if isinstance(composition, loading.Composition)
        else loading.load_composition(composition, functions=runners.keys())
    )
    observed_xr = fieldpaths.json_roundtrip(dict(xr))
    _check_type(observed_xr, loaded)
    run = RenderState(
        observed_xr=observed_xr,
        observed=_index_observed(observed),
        observed_secrets=observed_connection_details or {},
        desired_xr=copy.deepcopy(observed_xr) if loaded.native else _identity(observed_xr),
        native=loaded.native,
    )
    if environment is not None:
        run.context[ENVIRONMENT_CONTEXT_KEY] = fieldpaths.json_roundtrip(dict(environment))
    for warning in loaded.warnings:
        run.warn(warning, None)
    for step in loaded.steps:
        step_name = None if loaded.native else step.name
        try:
            _run_step(run, step, runners, step_name)
        except CompositionError as exc:
            raise exc.wrap(f"composition {loaded.name!r}" + (f" step {step.name!r}" if step_name else "")) from exc
    return _finish(run, loaded)


def _check_type(xr: Mapping[str, Any], composition: loading.Composition) -> None:
    if (xr.get("apiVersion"), xr.get("kind")) != (composition.composite_api_version, composition.composite_kind):
        raise PatchError(
            f"composition {composition.name!r} composes {composition.composite_api_version} "
            f"{composition.composite_kind}, not {xr.get('apiVersion')} {xr.get('kind')}"
        )


def _run_step(run: RenderState, step: loading.Step, runners: Mapping[str, FunctionRunner], name: str | None) -> None:
    if step.kind == "patch-and-transform":
        assert step.patch_and_transform is not None
        _run_patch_and_transform(run, step.patch_and_transform, name)
    elif step.function in runners:
        run_function(run, step, runners[step.function])
    elif step.kind == "auto-ready":
        run_auto_ready(run)
    else:
        raise UnsupportedFeatureError(
            f"step {step.name!r} runs composition function {step.function!r}, which blacktop cannot run",
            feature=f"composition function {step.function!r}",
        )


def _crossplane_metadata(run: RenderState, name: str, desired: Desired, named: bool) -> dict[str, Any]:
    resource = desired.resource
    xr_meta = run.observed_xr.get("metadata") or {}
    xr_labels = xr_meta.get("labels") or {}
    metadata = resource.setdefault("metadata", {})
    crossplane = FieldSource("crossplane")
    metadata["generateName"] = f"{xr_labels.get(COMPOSITE_LABEL) or xr_meta.get('name', '')}-"
    labels = metadata.setdefault("labels", {})
    labels[COMPOSITE_LABEL] = xr_labels.get(COMPOSITE_LABEL) or xr_meta.get("name", "")
    written = ["metadata.generateName", f"metadata.labels[{COMPOSITE_LABEL}]"]
    for label in (CLAIM_NAME_LABEL, CLAIM_NAMESPACE_LABEL):
        if xr_labels.get(label):
            labels[label] = xr_labels[label]
            written.append(f"metadata.labels[{label}]")
    if named:
        metadata.setdefault("annotations", {})[RESOURCE_NAME_ANNOTATION] = name
        written.append(f"metadata.annotations[{RESOURCE_NAME_ANNOTATION}]")
    if xr_meta.get("namespace") and not metadata.get("namespace"):
        metadata["namespace"] = xr_meta["namespace"]
        written.append("metadata.namespace")
    metadata["ownerReferences"] = [
        {
            "apiVersion": run.observed_xr.get("apiVersion"),
            "blockOwnerDeletion": True,
            "controller": True,
            "kind": run.observed_xr.get("kind"),
            "name": xr_meta.get("name", ""),
            "uid": xr_meta.get("uid", ""),
        }
    ]
    written.append("metadata.ownerReferences")
    observed = run.observed.get(name)
    if observed is not None and not metadata.get("name") and (observed.get("metadata") or {}).get("name"):
        metadata["name"] = observed["metadata"]["name"]
        desired.provenance["metadata.name"] = FieldSource("observed")
    record_provenance(desired.provenance, written, crossplane)
    return resource


def _composite_output(run: RenderState, composition: loading.Composition) -> dict[str, Any]:
    if composition.native:
        return run.desired_xr
    out = _identity(run.observed_xr)
    lost = sorted(k for k in run.xr_provenance if k != "status" and not k.startswith(("status.", "status[")))
    for path in lost:
        run.warn(
            f"{run.xr_provenance[path].describe()} wrote {path} of the composite, which is lost: "
            "in pipeline mode only the composite's status is applied",
            None,
        )
        del run.xr_provenance[path]
    if run.desired_xr.get("status"):
        out["status"] = run.desired_xr["status"]
    return out


def _finish(run: RenderState, composition: loading.Composition) -> RenderResult:
    named = {
        t.name: t.named for s in composition.steps if s.patch_and_transform for t in s.patch_and_transform.resources
    }
    resources = [
        ComposedResource(
            name=name,
            resource=_crossplane_metadata(run, name, desired, named.get(name, True)),
            ready=desired.ready is True,
            exists=name in run.observed,
            provenance=desired.provenance,
        )
        for name, desired in run.desired.items()
    ]
    secret = _connection_secret(run, composition)
    if secret is not None:
        resources.append(secret)
    environment = run.context.get(ENVIRONMENT_CONTEXT_KEY) or {}
    return RenderResult(
        composition=composition.name,
        composite=_composite_output(run, composition),
        resources=tuple(resources),
        connection_details=dict(run.connection),
        environment=environment,
        events=tuple(run.events),
        composite_provenance=dict(run.xr_provenance),
        dropped=tuple(run.dropped),
        composite_ready=run.composite_ready,
        connection_secret_ref=_v1_connection_secret_ref(run.observed_xr, composition),
    )


def _v1_connection_secret_ref(xr: Mapping[str, Any], composition: loading.Composition) -> dict[str, str] | None:
    """A v1 XR's secret: its own ``writeConnectionSecretToRef``, else the Composition's
    ``writeConnectionSecretsToNamespace`` with the XR's UID as the name (spec sheet 1.7)."""
    spec = xr.get("spec") or {}
    if "crossplane" in spec:
        return None  # v2 XRs compose their secret themselves
    own = spec.get("writeConnectionSecretToRef") or {}
    if own.get("name"):
        return {k: str(v) for k, v in own.items() if k in ("name", "namespace") and v}
    uid = (xr.get("metadata") or {}).get("uid")
    if composition.write_connection_secrets_to_namespace and uid:
        return {"name": str(uid), "namespace": composition.write_connection_secrets_to_namespace}
    return None


def _connection_secret(run: RenderState, composition: loading.Composition) -> ComposedResource | None:
    """A v2 XR (one with ``spec.crossplane``) gets its connection secret composed as a Secret."""
    spec = run.observed_xr.get("spec") or {}
    if not run.connection or "crossplane" not in spec or composition.native:
        return None
    xr_meta = run.observed_xr.get("metadata") or {}
    xr_name = str(xr_meta.get("name", ""))
    ref: dict[str, Any] = {"name": f"{xr_name}-connection", "namespace": xr_meta.get("namespace")}
    pt_ref = next(
        (
            s.patch_and_transform.write_connection_secret_to_ref
            for s in composition.steps
            if s.patch_and_transform and s.patch_and_transform.write_connection_secret_to_ref
        ),
        None,
    )
    if pt_ref and (pt_ref.get("name") or pt_ref.get("namespace")):
        ref.update({k: pt_ref[k] for k in ("name", "namespace") if pt_ref.get(k)})
        for index, raw in enumerate(pt_ref.get("patches") or []):
            patch = patches.normalise_patch(
                raw, index=index, label=f"writeConnectionSecretToRef patch {index}", native=False
            )
            _run_patch(
                run,
                patch,
                source=run.observed_xr,
                target=ref,
                provenance=None,
                context="the connection secret reference",
                step=None,
            )
    own = spec.get("writeConnectionSecretToRef") or {}
    ref.update({k: own[k] for k in ("name", "namespace") if own.get(k)})
    name = f"{xr_name}-connection-secret"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {k: v for k, v in ref.items() if k in ("name", "namespace") and v},
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(run.connection.items())},
    }
    desired = Desired(secret, True, leaf_provenance(secret, FieldSource("crossplane")))
    return ComposedResource(
        name, _crossplane_metadata(run, name, desired, True), True, name in run.observed, desired.provenance
    )
