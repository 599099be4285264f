"""The TeamNamespace kind: its OpenAPI v3 schema, names and the constants its controller shares.

A TeamNamespace is the design's "namespace provisioning with full isolation" manifest
(``platform.company.io/v1alpha1``). It is cluster-scoped, like a Kubernetes Namespace, because it
creates a namespace: only platform admins write it. The schema checks structure, enums, defaults
and the quantity grammar; what a schema cannot say (a default request above its limit, a subject
naming both a group and a user) is checked by ``validation`` and enforced at write time by the
admission policy of ``admission``.

Objects stay open (no ``additionalProperties: false`` beside ``properties``), as in the other
tenancy kinds, so that the kind exports as a valid CRD.
"""

from __future__ import annotations

from typing import Any, Final

from blacktop.kernel import quantities, schemas
from blacktop.kernel.kinds import KindInfo, PrinterColumn, Scope, object_schema

GROUP: Final = "platform.company.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "TeamNamespace"

FINALIZER: Final = "tenancy.blacktop.dev/teamnamespace"
"""Held until the namespace's bindings and GitOps manifests are removed."""

ENVIRONMENTS: Final = ("development", "staging", "production")
TIERS: Final = ("critical", "high", "standard", "low")
LIMIT_RESOURCES: Final = ("cpu", "memory", "ephemeral-storage")
"""The container resources ``limitRanges`` may state."""

DNS_LABEL: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

QUANTITY: Final[dict[str, Any]] = {
    "x-kubernetes-int-or-string": True,
    "pattern": quantities.QUANTITY_PATTERN,
    "minimum": 0,
    "description": f"A Kubernetes quantity, {quantities.EXAMPLES}.",
}

_LIMITS: Final[dict[str, Any]] = {
    "type": "object",
    "properties": dict.fromkeys(LIMIT_RESOURCES, QUANTITY),
}


_SELECTOR: Final[dict[str, Any]] = {
    **schemas.LABEL_SELECTOR,
    "description": "A Kubernetes label selector (matchLabels and matchExpressions).",
}

_PEER: Final[dict[str, Any]] = {
    "type": "object",
    "description": "Where traffic may come from or go to, as in a NetworkPolicy peer.",
    "minProperties": 1,
    "properties": {
        "namespaceSelector": _SELECTOR,
        "podSelector": _SELECTOR,
        "ipBlock": {
            "type": "object",
            "required": ["cidr"],
            "properties": {
                "cidr": {"type": "string", "minLength": 1, "description": "e.g. 10.0.0.0/8"},
                "except": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}

_SUBJECT: Final[dict[str, Any]] = {
    "type": "object",
    "description": "One group or one user.",
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        "group": {"type": "string", "minLength": 1, "maxLength": 253},
        "user": {"type": "string", "minLength": 1, "maxLength": 253},
    },
}

_SUBJECTS: Final[dict[str, Any]] = {"type": "array", "items": _SUBJECT, "default": []}

SPEC_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["team"],
    "properties": {
        "team": {
            "type": "string",
            "minLength": 1,
            "maxLength": 63,
            "pattern": DNS_LABEL,
            "description": "The owning team; becomes the namespace's team label.",
        },
        "environment": {"type": "string", "enum": list(ENVIRONMENTS), "default": "development"},
        "tier": {"type": "string", "enum": list(TIERS), "default": "standard"},
        "resourceQuotas": {
            "type": "object",
            "description": "ResourceQuota spec.hard: resource name (cpu, memory, pods, services, "
            "persistentvolumeclaims, requests.storage, count/deployments.apps, ...) to quantity.",
            "additionalProperties": QUANTITY,
        },
        "limitRanges": {
            "type": "object",
            "description": "Container defaults and ceilings; defaultRequest <= defaultLimit <= maxLimit per resource.",
            "properties": {"defaultRequest": _LIMITS, "defaultLimit": _LIMITS, "maxLimit": _LIMITS},
        },
        "networkPolicies": {
            "type": "array",
            "description": "Allow rules added to the namespace's default deny.",
            "default": [],
            "items": {
                "type": "object",
                "minProperties": 1,
                "properties": {
                    "allowIngressFrom": {"type": "array", "minItems": 1, "items": _PEER},
                    "allowEgressTo": {"type": "array", "minItems": 1, "items": _PEER},
                },
            },
        },
        "rbac": {
            "type": "object",
            "default": {},
            "properties": {"admins": _SUBJECTS, "developers": _SUBJECTS, "viewers": _SUBJECTS},
        },
        "monitoring": {
            "type": "object",
            "default": {},
            "properties": {
                "prometheus": {"type": "boolean", "default": True},
                "costAllocation": {"type": "boolean", "default": True},
                "teamDashboard": {"type": "boolean", "default": False},
            },
        },
    },
}


TEAM_NAMESPACE_SCHEMA: Final = KindInfo(
    group=GROUP,
    kind=KIND,
    plural="teamnamespaces",
    singular="teamnamespace",
    short_names=("tns",),
    versions=(VERSION,),
    scope=Scope.CLUSTER,
    categories=("platform",),
    description="A team's isolated namespace: quota, limits, network policies, role bindings and monitoring labels.",
    schema=object_schema(SPEC_SCHEMA),
    printer_columns=(
        PrinterColumn("Team", "spec.team"),
        PrinterColumn("Environment", "spec.environment"),
        PrinterColumn("Tier", "spec.tier"),
    ),
)
