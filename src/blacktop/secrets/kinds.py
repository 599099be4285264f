"""The kinds the secrets feature serves: External Secrets' own, the Password generator, and two of blacktop's.

ESO kinds are served in ``external-secrets.io`` ``v1`` (storage) and ``v1beta1`` with an open spec
schema: their full validation is :func:`eso.parse_eso_document`, which the controllers run and
report through status conditions, so a manifest written for ESO is stored unchanged.

blacktop's own kinds live in ``secrets.blacktop.dev``:

* ``Secret``: a synced target. It carries key names, type and a reference to the version in the
  store; the values themselves are only in the encrypted store, never in the resource, so they
  cannot appear in a listing, an audit record or a log. ``data`` and ``stringData`` are refused by
  the schema and listed in ``secret_paths`` for audit redaction as a second line of defence.
* ``SecretRotation``: rotates one key of a store path on a cadence (the design's 90 days for
  service accounts and 24 hours for short-lived tokens are the built-in policies).

and one of Kubernetes' core group: a minimal ``v1`` ``ConfigMap`` (``data``/``binaryData`` maps of
strings, as Kubernetes defines them), so an ExternalSecret's ``templateFrom[].configMap`` has
something to read, exactly as it would in a cluster.
"""

from __future__ import annotations

from typing import Any, Final

from blacktop.kernel.kinds import KindInfo, PrinterColumn, Scope, object_schema

from . import eso

GROUP: Final = "secrets.blacktop.dev"
VERSION: Final = "v1alpha1"
GENERATORS_GROUP: Final = "generators.external-secrets.io"

_OPEN: Final[dict[str, Any]] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_READY = PrinterColumn("Ready", "status.conditions[0].status")


def _eso(kind: str, plural: str, scope: Scope, description: str, short: tuple[str, ...] = ()) -> KindInfo:
    return KindInfo(
        group=eso.GROUP,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        short_names=short,
        versions=("v1", "v1beta1"),
        scope=scope,
        categories=("external-secrets",),
        description=description,
        schema=object_schema(_OPEN),
        printer_columns=(_READY,),
        origin="secrets",
    )


EXTERNAL_SECRET: Final = _eso(
    "ExternalSecret", "externalsecrets", Scope.NAMESPACED,
    "Which values of a secret store become which keys of a target Secret (External Secrets Operator).", ("es",),
)  # fmt: skip
CLUSTER_EXTERNAL_SECRET: Final = _eso(
    "ClusterExternalSecret", "clusterexternalsecrets", Scope.CLUSTER,
    "An ExternalSecret stamped into every selected namespace.", ("ces",),
)  # fmt: skip
SECRET_STORE: Final = _eso(
    "SecretStore", "secretstores", Scope.NAMESPACED, "A secret provider usable from its own namespace.", ("ss",)
)
CLUSTER_SECRET_STORE: Final = _eso(
    "ClusterSecretStore", "clustersecretstores", Scope.CLUSTER,
    "A secret provider usable from the namespaces its conditions allow.", ("css",),
)  # fmt: skip

PASSWORD: Final = KindInfo(
    group=GENERATORS_GROUP,
    kind="Password",
    plural="passwords",
    singular="password",
    versions=("v1alpha1",),
    scope=Scope.NAMESPACED,
    description="ESO's Password generator: random passwords for ExternalSecrets and rotations.",
    schema=object_schema(_OPEN),
    origin="secrets",
)

SECRET: Final = KindInfo(
    group=GROUP,
    kind="Secret",
    plural="secrets",
    singular="secret",
    versions=(VERSION,),
    scope=Scope.NAMESPACED,
    description="Secret values for workloads; the values live encrypted in the secret store, never here.",
    schema={
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "default": "Opaque"},
                    "keys": {"type": "array", "items": {"type": "string"}},
                    "immutable": {"type": "boolean"},
                    "valueFrom": {
                        "type": "object",
                        "description": "Where the values are: a path and version in the encrypted store.",
                        "properties": {"path": {"type": "string"}, "version": {"type": "integer"}},
                    },
                },
            },
            "data": {"not": {}, "description": "Refused: write values with `blacktop secrets put`."},
            "stringData": {"not": {}, "description": "Refused: write values with `blacktop secrets put`."},
            "status": _OPEN,
        },
    },
    secret_paths=("data", "stringData"),
    printer_columns=(PrinterColumn("Type", "spec.type"), PrinterColumn("Store path", "spec.valueFrom.path")),
    origin="secrets",
)

SECRET_ROTATION: Final = KindInfo(
    group=GROUP,
    kind="SecretRotation",
    plural="secretrotations",
    singular="secretrotation",
    versions=(VERSION,),
    scope=Scope.NAMESPACED,
    description="Regenerates one key of a secret path on a cadence; old versions stay readable for a grace period.",
    schema=object_schema(
        {
            "type": "object",
            "required": ["path"],
            "properties": {
                "path": {"type": "string", "description": "e.g. secret/data/payments/api-token"},
                "key": {"type": "string", "default": "password"},
                "policy": {"type": "string", "enum": ["service-account", "short-lived-token"]},
                "cadence": {"type": "string", "description": "Go duration overriding the policy, e.g. 24h"},
                "gracePeriod": {"type": "string", "description": "Go duration, e.g. 1h"},
                "password": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
    ),
    printer_columns=(PrinterColumn("Path", "spec.path"), PrinterColumn("Next", "status.nextRotationTime")),
    origin="secrets",
)

_STRING_MAP: Final[dict[str, Any]] = {"type": "object", "additionalProperties": {"type": "string"}}

CONFIG_MAP: Final = KindInfo(
    group="",
    kind="ConfigMap",
    plural="configmaps",
    singular="configmap",
    short_names=("cm",),
    versions=("v1",),
    scope=Scope.NAMESPACED,
    description="Kubernetes' ConfigMap: non-secret key/value data, e.g. templates for ExternalSecrets.",
    schema={
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "data": {**_STRING_MAP, "description": "UTF-8 values by key."},
            "binaryData": {**_STRING_MAP, "description": "Base64-encoded binary values by key."},
            "immutable": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    origin="secrets",
)

KINDS: Final[list[KindInfo]] = [
    CLUSTER_EXTERNAL_SECRET,
    CLUSTER_SECRET_STORE,
    CONFIG_MAP,
    EXTERNAL_SECRET,
    PASSWORD,
    SECRET,
    SECRET_ROTATION,
    SECRET_STORE,
]
"""Every kind the secrets feature registers."""
