"""The tenancy kinds: users, groups and the bindings that grant roles to them.

They are ordinary resources, written through the same pipeline as everything else, so who may do
what is itself declarative, versioned and audited. ``rbac.compile_bindings`` turns the stored
objects into the snapshot the authorizer reads.

Schemas leave objects open (no ``additionalProperties: false`` beside ``properties``): Kubernetes
refuses that in a CRD and prunes unknown fields instead, and these kinds export as CRDs.
"""

from __future__ import annotations

from typing import Any, Final

from blacktop.kernel.kinds import KindInfo, PrinterColumn, Scope, object_schema

GROUP: Final = "tenancy.blacktop.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

NAMESPACE_ROLES: Final = ("admin", "developer", "viewer", "recorder")
"""Roles a RoleBinding grants inside its namespace."""

CLUSTER_ROLES: Final = ("platform-admin", "viewer")
"""Roles a ClusterRoleBinding grants across the platform."""

_NAME: Final[dict[str, Any]] = {"type": "string", "minLength": 1, "maxLength": 253}

_SUBJECTS: Final[dict[str, Any]] = {
    "type": "array",
    "minItems": 1,
    "description": "Who receives the role: users by name and groups by name.",
    "items": {
        "type": "object",
        "required": ["kind", "name"],
        "properties": {"kind": {"type": "string", "enum": ["User", "Group"]}, "name": _NAME},
    },
}


def _binding_spec(roles: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["role", "subjects"],
        "properties": {"role": {"type": "string", "enum": list(roles)}, "subjects": _SUBJECTS},
    }


USER: Final = KindInfo(
    group=GROUP,
    kind="User",
    plural="users",
    singular="user",
    versions=(VERSION,),
    scope=Scope.CLUSTER,
    description="A person who uses the platform; tokens authenticate as a user by name.",
    schema=object_schema(
        {
            "type": "object",
            "properties": {
                "displayName": {"type": "string"},
                "email": {"type": "string"},
            },
        }
    ),
    printer_columns=(PrinterColumn("Display Name", "spec.displayName"), PrinterColumn("Email", "spec.email")),
)

GROUP_KIND: Final = KindInfo(
    group=GROUP,
    kind="Group",
    plural="groups",
    singular="group",
    versions=(VERSION,),
    scope=Scope.CLUSTER,
    description="A named set of users; bindings may grant a role to a group.",
    schema=object_schema(
        {
            "type": "object",
            "properties": {
                "description": {"type": "string"},
                "members": {"type": "array", "items": _NAME, "default": []},
            },
        }
    ),
)

ROLE_BINDING: Final = KindInfo(
    group=GROUP,
    kind="RoleBinding",
    plural="rolebindings",
    singular="rolebinding",
    short_names=("rb",),
    versions=(VERSION,),
    scope=Scope.NAMESPACED,
    description="Grants admin, developer, viewer or recorder in one namespace to users and groups.",
    schema=object_schema(_binding_spec(NAMESPACE_ROLES)),
    printer_columns=(PrinterColumn("Role", "spec.role"),),
)

CLUSTER_ROLE_BINDING: Final = KindInfo(
    group=GROUP,
    kind="ClusterRoleBinding",
    plural="clusterrolebindings",
    singular="clusterrolebinding",
    short_names=("crb",),
    versions=(VERSION,),
    scope=Scope.CLUSTER,
    description="Grants platform-admin or viewer across the whole platform to users and groups.",
    schema=object_schema(_binding_spec(CLUSTER_ROLES)),
    printer_columns=(PrinterColumn("Role", "spec.role"),),
)

KINDS: Final[list[KindInfo]] = [CLUSTER_ROLE_BINDING, GROUP_KIND, ROLE_BINDING, USER]
"""Every tenancy kind, for the composition root to register."""
