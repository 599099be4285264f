"""The ``PreviewEnvironment`` kind: its OpenAPI v3 schema (with defaults) and the admission policy beside it.

The design's manifest (``apiVersion: platform.company.io/v1alpha1``) must apply unchanged, so the
kind lives in the design's group next to the built-in profile's ``Database`` and ``Cache``.

Structure, types, enums and simple formats are the schema's job: every problem comes back at once
with its field path. Rules a structural schema cannot say clearly (a TTL that is a Go duration, at
most ``MAX_TTL``; dependency names unique) are a ``ValidatingPolicy`` the feature creates at start
(``admission_policy``), so a bad TTL is a 422 naming ``spec.ttl`` with a message saying how to write
one, instead of a regular expression. ``validation.problems_in`` checks the same rules in pure code
for the controller and the tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from blacktop.kernel.errors import InputError, Problem
from blacktop.kernel.kinds import KindInfo, PrinterColumn, Scope, object_schema

from . import durations

GROUP: Final = "platform.company.io"
VERSION: Final = "v1alpha1"
KIND: Final = "PreviewEnvironment"
API_VERSION: Final = f"{GROUP}/{VERSION}"
FINALIZER: Final = "environments.blacktop.dev/preview-cleanup"
"""Held until the claims are gone and the GitOps files (Argo CD Application included) are removed."""

DEPENDENCY_TYPES: Final = ("database", "cache", "service", "mock")
"""What a dependency can be: a claim of the built-in profile's Database/Cache, a catalog service, a mock."""
DEFAULT_TTL: Final = "72h"
MAX_TTL: Final = timedelta(hours=720)
"""The longest lifetime a preview may ask for (30 days): previews are not a way around staging."""
MAX_TTL_TEXT: Final = "720h"
DEFAULT_CPU: Final = "500m"
DEFAULT_MEMORY: Final = "512Mi"

QUANTITY_PATTERN: Final = r"^[0-9]+([.][0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
"""A Kubernetes quantity as requests and limits use them: ``2``, ``500m``, ``4Gi``, ``1.5``."""
DNS_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
HOST_PATTERN: Final = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?[.])+[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
REPOSITORY_PATTERN: Final = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
COMMIT_PATTERN: Final = r"^[0-9a-f]{7,40}$"
SLACK_PATTERN: Final = r"^#[a-z0-9._-]+$"

_QUANTITY: Final[dict[str, Any]] = {"x-kubernetes-int-or-string": True, "pattern": QUANTITY_PATTERN}

SPEC_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["source"],
    "additionalProperties": False,
    "properties": {
        "source": {
            "type": "object",
            "description": "What to deploy: the repository's image built at this commit.",
            "required": ["repository", "commit"],
            "additionalProperties": False,
            "properties": {
                "repository": {"type": "string", "pattern": REPOSITORY_PATTERN, "description": "owner/name"},
                "branch": {"type": "string", "minLength": 1, "description": "The pull request's branch."},
                "commit": {"type": "string", "pattern": COMMIT_PATTERN, "description": "7 to 40 hex digits."},
                "pullRequest": {"type": "integer", "minimum": 1, "description": "Else read from label 'pr'."},
            },
        },
        "ttl": {
            "type": "string",
            "default": DEFAULT_TTL,
            "description": f"Lifetime from creation, a Go duration ({durations.HINT}); at most {MAX_TTL_TEXT}.",
        },
        "resources": {
            "type": "object",
            "default": {},
            "additionalProperties": False,
            "description": "Requests and limits of the application container (Kubernetes quantities).",
            "properties": {
                "cpu": {**_QUANTITY, "default": DEFAULT_CPU},
                "memory": {**_QUANTITY, "default": DEFAULT_MEMORY},
            },
        },
        "dependencies": {
            "type": "array",
            "default": [],
            "items": {
                "type": "object",
                "required": ["name", "type"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": DNS_LABEL_PATTERN, "maxLength": 40},
                    "type": {"type": "string", "enum": list(DEPENDENCY_TYPES)},
                    "fixture": {"type": "string", "minLength": 1, "description": "Seed data set (database)."},
                    "version": {"type": "string", "minLength": 1, "description": "Pinned version (service)."},
                    "config": {
                        "x-kubernetes-preserve-unknown-fields": True,
                        "description": "Mock configuration: a mode name or an object of settings.",
                    },
                    "engine": {"type": "string", "enum": ["postgresql", "mysql"], "description": "database only"},
                    "image": {"type": "string", "minLength": 1, "description": "mock only: image to run"},
                    "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "mock/service port"},
                },
            },
        },
        "ingress": {
            "type": "object",
            "required": ["host"],
            "additionalProperties": False,
            "properties": {
                "host": {"type": "string", "pattern": HOST_PATTERN, "maxLength": 253},
                "tls": {"type": "boolean", "default": True},
            },
        },
        "notifications": {
            "type": "object",
            "default": {},
            "additionalProperties": False,
            "properties": {
                "github-status": {"type": "boolean", "default": False},
                "slack": {"type": "string", "pattern": SLACK_PATTERN},
            },
        },
    },
}


def spec_problems(spec: Mapping[str, Any]) -> list[Problem]:
    """The rules beyond the schema, over a defaulted spec: the TTL and unique dependency names."""
    problems: list[Problem] = []
    ttl = spec.get("ttl", DEFAULT_TTL)
    listed = spec.get("dependencies")
    dependencies = list(listed) if isinstance(listed, list) else []
    try:
        lifetime = durations.parse_duration(str(ttl), path="spec.ttl")
    except InputError as exc:
        problems.extend(exc.problems)
    else:
        if lifetime > MAX_TTL:
            problems.append(Problem("spec.ttl", f"{ttl!r} is out of range; at most {MAX_TTL_TEXT}"))
    names = Counter(str(d.get("name")) for d in dependencies if isinstance(d, Mapping))
    for index, dependency in enumerate(dependencies):
        if isinstance(dependency, Mapping) and names[str(dependency.get("name"))] > 1:
            problems.append(
                Problem(f"spec.dependencies[{index}].name", f"{dependency.get('name')!r} is used more than once")
            )
    return problems


def _semantic_problems(obj: Mapping[str, Any]) -> list[Problem]:
    spec = obj.get("spec")
    return spec_problems(spec) if isinstance(spec, Mapping) else []


PREVIEW_ENVIRONMENT: Final = KindInfo(
    group=GROUP,
    kind=KIND,
    plural="previewenvironments",
    singular="previewenvironment",
    short_names=("preview", "previews", "pe"),
    versions=(VERSION,),
    scope=Scope.NAMESPACED,
    categories=("environments",),
    description="An ephemeral environment for one pull request: namespace, app, dependencies, ingress, TTL.",
    schema=object_schema(SPEC_SCHEMA),
    printer_columns=(
        PrinterColumn("Ready", "status.conditions[0].status"),
        PrinterColumn("URL", "status.url"),
        PrinterColumn("Expires", "status.expiresAt"),
    ),
    origin="environments",
    checks=_semantic_problems,
)

KINDS: Final = [PREVIEW_ENVIRONMENT]

POLICY_NAME: Final = "preview-environments"
RANGE: Final = f"a preview lives longer than 0s and at most {MAX_TTL_TEXT}"


def admission_policy() -> dict[str, Any]:
    """The ValidatingPolicy enforcing the rules the schema cannot state clearly (TTL, unique dependency names)."""
    ttl = "object.spec.ttl"
    valid = f"{ttl}.matches('{durations.PATTERN}')"
    return {
        "apiVersion": "policy.blacktop.dev/v1alpha1",
        "kind": "ValidatingPolicy",
        "metadata": {
            "name": POLICY_NAME,
            "labels": {"app.kubernetes.io/managed-by": "blacktop", "blacktop.dev/feature": "environments"},
        },
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [{"apiGroups": [GROUP], "kinds": [KIND], "operations": ["CREATE", "UPDATE"]}]
            },
            "validations": [
                {
                    "expression": f"!has(object.spec.ttl) || {valid}",
                    "messageExpression": f'"\'" + {ttl} + "\' is not a duration; {durations.HINT}"',
                    "message": f"spec.ttl is not a duration; {durations.HINT}",
                    "fieldPath": "spec.ttl",
                },
                {
                    "expression": (
                        f"!has(object.spec.ttl) || !{valid} || "
                        f"(duration({ttl}) > duration('0s') && duration({ttl}) <= duration('{MAX_TTL_TEXT}'))"
                    ),
                    "messageExpression": f'"\'" + {ttl} + "\' is out of range: {RANGE}"',
                    "message": f"spec.ttl is out of range: {RANGE}",
                    "fieldPath": "spec.ttl",
                },
                {
                    "expression": (
                        "!has(object.spec.dependencies) || object.spec.dependencies.all(d, "
                        "object.spec.dependencies.filter(e, e.name == d.name).size() == 1)"
                    ),
                    "message": "dependency names must be unique; rename or remove the repeated entry",
                    "fieldPath": "spec.dependencies",
                },
            ],
        },
    }
