"""Pipeline steps other than patch-and-transform: function-auto-ready and caller-supplied functions.

blacktop runs patch-and-transform itself (see :mod:`.rendering`). function-auto-ready is simple
enough to build in. Any other composition function runs through a :data:`FunctionRunner` the caller
supplies, speaking the shape of Crossplane's ``RunFunctionRequest``/``RunFunctionResponse`` as
plain dicts, so a real gRPC client can be plugged in later without changing the renderer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, Literal

from . import fieldpaths, loading, readiness
from .errors import StepFailedError
from .results import FieldSource, RenderEvent
from .state import Desired, RenderState, diff_provenance

__all__ = ["FunctionRunner", "function_request", "run_auto_ready", "run_function"]

FunctionRunner = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""Runs one composition function: a RunFunctionRequest-shaped dict in, a response-shaped dict out."""


def run_auto_ready(run: RenderState) -> None:
    """function-auto-ready: a resource whose readiness is unspecified is ready when its Ready condition is."""
    for name, desired in run.desired.items():
        observed = run.observed.get(name)
        if desired.ready is None and observed is not None and readiness.condition_status(observed, "Ready") == "True":
            desired.ready = True


def function_request(run: RenderState, step_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """The RunFunctionRequest-shaped dict a function step receives."""

    def ready(value: bool | None) -> str:
        return {True: "READY_TRUE", False: "READY_FALSE", None: "READY_UNSPECIFIED"}[value]

    return {
        "observed": {
            "composite": {"resource": copy.deepcopy(run.observed_xr)},
            "resources": {
                name: {"resource": copy.deepcopy(obj), "connectionDetails": dict(run.observed_secrets.get(name) or {})}
                for name, obj in run.observed.items()
            },
        },
        "desired": {
            "composite": {"resource": copy.deepcopy(run.desired_xr)},
            "resources": {
                name: {"resource": copy.deepcopy(d.resource), "ready": ready(d.ready)}
                for name, d in run.desired.items()
            },
        },
        "input": copy.deepcopy(dict(step_input)) if step_input is not None else None,
        "context": copy.deepcopy(run.context),
    }


def run_function(run: RenderState, step: loading.Step, runner: FunctionRunner) -> None:
    """Run a caller-supplied function step and take its desired state; a fatal result fails the render."""
    response = runner(function_request(run, step.input))
    for result in response.get("results") or []:
        severity = str(result.get("severity", "SEVERITY_NORMAL"))
        message = str(result.get("message", ""))
        if severity == "SEVERITY_FATAL":
            raise StepFailedError(f"step {step.name!r} (function {step.function!r}) failed: {message}")
        kind: Literal["Normal", "Warning"] = "Warning" if severity == "SEVERITY_WARNING" else "Normal"
        run.events.append(RenderEvent(kind, message, step.name))
    desired = response.get("desired") or {}
    xr = (desired.get("composite") or {}).get("resource")
    source = FieldSource("function", step=step.name)
    if isinstance(xr, Mapping):
        diff_provenance(run.desired_xr, dict(xr), run.xr_provenance, source)
        run.desired_xr = fieldpaths.json_roundtrip(dict(xr))
    resources: dict[str, Desired] = {}
    for name, entry in (desired.get("resources") or {}).items():
        resource = fieldpaths.json_roundtrip(dict(entry.get("resource") or {}))
        previous = run.desired.get(name)
        provenance = dict(previous.provenance) if previous else {}
        diff_provenance(previous.resource if previous else {}, resource, provenance, source)
        ready = {"READY_TRUE": True, "READY_FALSE": False}.get(str(entry.get("ready", "")))
        resources[name] = Desired(resource, ready, provenance)
    run.desired = resources
    if "context" in response:
        run.context = copy.deepcopy(dict(response["context"] or {}))
