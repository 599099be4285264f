"""The ``Deployment`` and ``Incident`` kinds DORA metrics are computed from, with their OpenAPI v3 schemas.

Both are ordinary namespaced platform resources (group ``metrics.blacktop.dev``) so they pass the one
write pipeline: a team writes its records into its own namespace with its developer role (or a
machine identity with the ``recorder`` role, which may only create records), every write is
validated with field paths, admitted and audited. The schema states structure and formats
(RFC 3339 timestamps, entity refs, enums); rules across fields (``finishedAt`` not before
``startedAt``, an incident resolved after it opened) are checked by ``model`` when records are read,
so one bad record never hides the others from the report.
"""

from __future__ import annotations

from typing import Any, Final

from blacktop.kernel.kinds import KindInfo, PrinterColumn, Scope, object_schema

GROUP: Final = "metrics.blacktop.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
DEPLOYMENT_KIND: Final = "Deployment"
INCIDENT_KIND: Final = "Incident"

TIMESTAMP_PATTERN: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
"""An RFC 3339 timestamp with a zone: ``2026-11-02T09:30:00Z`` or ``2026-11-02T10:30:00+01:00``."""
SERVICE_PATTERN: Final = r"^([A-Za-z0-9_.-]+:)?([A-Za-z0-9_.-]+/)?[A-Za-z0-9_.-]+$"
"""A catalog entity ref, ``[kind:][namespace/]name``; a bare name means ``component:default/<name>``."""
SHA_PATTERN: Final = r"^[0-9a-fA-F]{7,64}$"
STATUSES: Final = ("succeeded", "failed")
SEVERITIES: Final = ("sev1", "sev2", "sev3", "sev4", "sev5")
SOURCES: Final = ("github-actions", "github-deployments", "argocd", "manual")

_TIMESTAMP: Final[dict[str, Any]] = {"type": "string", "pattern": TIMESTAMP_PATTERN}

DEPLOYMENT_SPEC: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["service", "environment", "finishedAt", "status"],
    "additionalProperties": False,
    "properties": {
        "service": {
            "type": "string",
            "pattern": SERVICE_PATTERN,
            "description": "The catalog component deployed, e.g. component:default/payments.",
        },
        "environment": {"type": "string", "minLength": 1, "maxLength": 63, "description": "e.g. production."},
        "version": {"type": "string", "minLength": 1, "description": "The release name or image tag."},
        "commitSha": {"type": "string", "pattern": SHA_PATTERN, "description": "The commit deployed (head)."},
        "commits": {
            "type": "array",
            "default": [],
            "description": "The changes this deployment shipped; lead time is measured from each one's time.",
            "items": {
                "type": "object",
                "required": ["sha"],
                "additionalProperties": False,
                "properties": {
                    "sha": {"type": "string", "pattern": SHA_PATTERN},
                    "authoredAt": _TIMESTAMP,
                    "committedAt": _TIMESTAMP,
                },
            },
        },
        "startedAt": _TIMESTAMP,
        "finishedAt": _TIMESTAMP,
        "status": {"type": "string", "enum": list(STATUSES)},
        "causedIncident": {
            "type": "boolean",
            "default": False,
            "description": "The deployment degraded service (an incident, a hotfix).",
        },
        "rolledBack": {"type": "boolean", "default": False, "description": "The deployment was rolled back."},
        "source": {
            "type": "object",
            "additionalProperties": False,
            "description": "Where the record came from (filled in by the webhook ingestion).",
            "properties": {
                "system": {"type": "string", "enum": list(SOURCES)},
                "deliveryId": {"type": "string", "minLength": 1},
                "url": {"type": "string"},
                "repository": {"type": "string"},
            },
        },
    },
}

INCIDENT_SPEC: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["service", "environment", "openedAt"],
    "additionalProperties": False,
    "properties": {
        "service": {"type": "string", "pattern": SERVICE_PATTERN},
        "environment": {"type": "string", "minLength": 1, "maxLength": 63},
        "openedAt": _TIMESTAMP,
        "resolvedAt": _TIMESTAMP,
        "severity": {"type": "string", "enum": list(SEVERITIES), "default": "sev3"},
        "deployment": {
            "type": "string",
            "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
            "description": "The name of the Deployment record (same namespace) that caused it, if known.",
        },
        "summary": {"type": "string"},
    },
}

DEPLOYMENT: Final = KindInfo(
    group=GROUP,
    kind=DEPLOYMENT_KIND,
    plural="deployments",
    singular="deployment",
    short_names=("deploymentrecord",),
    versions=(VERSION,),
    scope=Scope.NAMESPACED,
    categories=("dora",),
    description="A deployment of a catalog component to an environment: what shipped, when, and whether it failed.",
    schema=object_schema(DEPLOYMENT_SPEC),
    printer_columns=(
        PrinterColumn("Service", "spec.service"),
        PrinterColumn("Environment", "spec.environment"),
        PrinterColumn("Status", "spec.status"),
        PrinterColumn("Finished", "spec.finishedAt"),
    ),
    origin="metrics",
)

INCIDENT: Final = KindInfo(
    group=GROUP,
    kind=INCIDENT_KIND,
    plural="incidents",
    singular="incident",
    versions=(VERSION,),
    scope=Scope.NAMESPACED,
    categories=("dora",),
    description="A degradation of a service in an environment, from when it opened until it was resolved.",
    schema=object_schema(INCIDENT_SPEC),
    printer_columns=(
        PrinterColumn("Service", "spec.service"),
        PrinterColumn("Severity", "spec.severity"),
        PrinterColumn("Opened", "spec.openedAt"),
        PrinterColumn("Resolved", "spec.resolvedAt"),
    ),
    origin="metrics",
)

KINDS: Final = [DEPLOYMENT, INCIDENT]
