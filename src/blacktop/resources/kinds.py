"""The Crossplane kinds blacktop serves itself: XRDs, Compositions, their revisions, EnvironmentConfigs.

They keep Crossplane's group and version (``apiextensions.crossplane.io/v1``) so a platform
team's existing manifests apply unchanged. The schemas are deliberately open: the real checks
(``load_definition``, ``load_composition``) run in the controllers and are reported on the
object's conditions with every field path, and in ``blacktop plan``. Composite and claim kinds are
not here: each XRD registers its own at run time.
"""

from __future__ import annotations

from typing import Any, Final

from blacktop.kernel.kinds import KindInfo, PrinterColumn, Scope, object_schema

__all__ = [
    "COMPOSITION",
    "COMPOSITION_REVISION",
    "DEFINITION",
    "ENVIRONMENT_CONFIG",
    "GROUP",
    "KINDS",
    "VERSION",
]

GROUP: Final = "apiextensions.crossplane.io"
VERSION: Final = "v1"
_OPEN: Final[dict[str, Any]] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_REF: Final[dict[str, Any]] = {"type": "object", "properties": {"name": {"type": "string"}}}

DEFINITION: Final = KindInfo(
    group=GROUP,
    kind="CompositeResourceDefinition",
    plural="compositeresourcedefinitions",
    singular="compositeresourcedefinition",
    short_names=("xrd", "xrds"),
    categories=("crossplane",),
    versions=("v1", "v2"),
    scope=Scope.CLUSTER,
    description="Defines a composite resource kind and, optionally, the claim kind developers apply.",
    schema=object_schema(
        {
            "type": "object",
            "required": ["group", "names", "versions"],
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {
                "group": {"type": "string", "minLength": 1},
                "names": _OPEN,
                "claimNames": _OPEN,
                "versions": {"type": "array", "minItems": 1, "items": _OPEN},
                "connectionSecretKeys": {"type": "array", "items": {"type": "string"}},
                "defaultCompositionRef": _REF,
                "enforcedCompositionRef": _REF,
                "defaultCompositionUpdatePolicy": {"type": "string", "enum": ["Automatic", "Manual"]},
                "defaultCompositeDeletePolicy": {"type": "string", "enum": ["Background", "Foreground"]},
                "scope": {"type": "string", "enum": ["Namespaced", "Cluster", "LegacyCluster"]},
            },
        }
    ),
    printer_columns=(PrinterColumn("Group", "spec.group"), PrinterColumn("Kind", "spec.names.kind")),
)
COMPOSITION: Final = KindInfo(
    group=GROUP,
    kind="Composition",
    plural="compositions",
    singular="composition",
    short_names=("comp",),
    categories=("crossplane",),
    versions=(VERSION,),
    scope=Scope.CLUSTER,
    description="Maps a composite resource to composed resources with patch-and-transform.",
    schema=object_schema(
        {
            "type": "object",
            "required": ["compositeTypeRef"],
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {
                "compositeTypeRef": {
                    "type": "object",
                    "required": ["apiVersion", "kind"],
                    "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}},
                },
                "mode": {"type": "string", "enum": ["Resources", "Pipeline"]},
            },
        }
    ),
    printer_columns=(
        PrinterColumn("XR-Kind", "spec.compositeTypeRef.kind"),
        PrinterColumn("Latest-Revision", "status.latestRevision"),
    ),
)
COMPOSITION_REVISION: Final = KindInfo(
    group=GROUP,
    kind="CompositionRevision",
    plural="compositionrevisions",
    singular="compositionrevision",
    short_names=("comprev",),
    categories=("crossplane",),
    versions=(VERSION,),
    scope=Scope.CLUSTER,
    description="An immutable, numbered snapshot of a Composition's spec.",
    schema=object_schema(
        {
            "type": "object",
            "required": ["revision"],
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {"revision": {"type": "integer", "minimum": 1}},
        }
    ),
    printer_columns=(PrinterColumn("Revision", "spec.revision"),),
)
ENVIRONMENT_CONFIG: Final = KindInfo(
    group=GROUP,
    kind="EnvironmentConfig",
    plural="environmentconfigs",
    singular="environmentconfig",
    short_names=("envcfg",),
    categories=("crossplane",),
    versions=("v1alpha1", "v1beta1"),
    scope=Scope.CLUSTER,
    description="Data compositions read through From/ToEnvironmentFieldPath patches.",
    schema={
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "data": _OPEN,
        },
    },
)

KINDS: Final[list[KindInfo]] = [DEFINITION, COMPOSITION, COMPOSITION_REVISION, ENVIRONMENT_CONFIG]
"""The kinds the resources feature registers at start."""
