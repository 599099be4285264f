"""The ``ValidatingPolicy`` kind: admission rules written in CEL, in the spirit of Kubernetes'
ValidatingAdmissionPolicy (one object holds both the match and the validations; there is no
separate binding object).

Schemas leave objects open (no ``additionalProperties: false`` beside ``properties``): Kubernetes
refuses that in a CRD and prunes unknown fields instead, and these kinds export as CRDs.
"""

from __future__ import annotations

from typing import Any, Final

from blacktop.kernel import schemas
from blacktop.kernel.kinds import KindInfo, PrinterColumn, Scope, object_schema

GROUP: Final = "policy.blacktop.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

OPERATIONS: Final = ("CREATE", "UPDATE", "DELETE")
DEFAULT_OPERATIONS: Final = ("CREATE", "UPDATE")
"""Operations a rule matches when it names none: DELETE has no ``object``, so it is opt-in."""

_STRINGS: Final[dict[str, Any]] = {"type": "array", "items": {"type": "string"}}

_RESOURCE_RULE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["kinds"],
    "properties": {
        "apiGroups": {**_STRINGS, "default": ["*"], "description": "API groups; '*' matches any."},
        "kinds": {**_STRINGS, "minItems": 1, "description": "Kind names (Database); '*' matches any."},
        "operations": {
            "type": "array",
            "items": {"type": "string", "enum": [*OPERATIONS, "*"]},
            "default": list(DEFAULT_OPERATIONS),
        },
    },
}

_LABEL_SELECTOR: Final = schemas.LABEL_SELECTOR

_VALIDATION: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["expression"],
    "properties": {
        "expression": {"type": "string", "minLength": 1, "description": "CEL; true admits the write."},
        "message": {"type": "string"},
        "messageExpression": {"type": "string", "description": "CEL returning the message as a string."},
        "reason": {"type": "string", "enum": ["Invalid", "Forbidden"], "default": "Invalid"},
        "fieldPath": {"type": "string", "description": "The field the message is about, e.g. spec.tier."},
    },
}

SPEC_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["matchConstraints", "validations"],
    "properties": {
        "failurePolicy": {"type": "string", "enum": ["Fail", "Ignore"], "default": "Fail"},
        "matchConstraints": {
            "type": "object",
            "required": ["resourceRules"],
            "properties": {
                "resourceRules": {"type": "array", "minItems": 1, "items": _RESOURCE_RULE},
                "namespaces": {**_STRINGS, "description": "Only these namespaces; empty means all."},
                "excludeNamespaces": {**_STRINGS, "description": "Never these namespaces."},
                "objectSelector": _LABEL_SELECTOR,
            },
        },
        "validations": {"type": "array", "minItems": 1, "items": _VALIDATION},
    },
}

VALIDATING_POLICY: Final = KindInfo(
    group=GROUP,
    kind="ValidatingPolicy",
    plural="validatingpolicies",
    singular="validatingpolicy",
    short_names=("vpol",),
    versions=(VERSION,),
    scope=Scope.CLUSTER,
    description="Admission rules in CEL over object, oldObject and request; a false rule refuses the write.",
    schema=object_schema(SPEC_SCHEMA),
    printer_columns=(PrinterColumn("Failure Policy", "spec.failurePolicy"),),
)

KINDS: Final[list[KindInfo]] = [VALIDATING_POLICY]
"""Every policy kind, for the composition root to register."""
