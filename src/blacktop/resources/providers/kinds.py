"""The kinds the providers serve: the local provider's managed resources and the cloud ones it renders.

Local kinds follow Crossplane's managed-resource shape (``spec.forProvider``,
``spec.writeConnectionSecretToRef``, ``spec.deletionPolicy``, ``status.atProvider``,
``Ready``/``Synced`` conditions) so compositions written for Crossplane providers patch them the
same way. Cloud kinds (``rds.aws.upbound.io`` Instance, ...) are deliberately not served: the
claim lifecycle hands them to ``publishing.GitOpsPublisher``, which writes them to the GitOps
repository for a real Crossplane.
"""

from __future__ import annotations

from typing import Any, Final

from blacktop.kernel.kinds import KindInfo, PrinterColumn, object_schema

from . import model

_SECRET_REF: Final = {
    "type": "object",
    "description": "Where the connection details (username, password, endpoint, port, uri, ...) are written.",
    "properties": {"name": {"type": "string", "minLength": 1}, "namespace": {"type": "string"}},
    "required": ["name"],
}
_COMMON: Final[dict[str, Any]] = {
    "writeConnectionSecretToRef": _SECRET_REF,
    "deletionPolicy": {"type": "string", "enum": ["Delete", "Orphan"], "default": "Delete"},
}
_ROTATION: Final = {
    "type": "string",
    "description": "A secret-store rotation policy (e.g. service-account) that rotates the password on its cadence.",
}
_IDENT: Final = {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$", "maxLength": 63}


def _spec(for_provider: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "forProvider": {"type": "object", "properties": for_provider, "default": {}},
            **_COMMON,
        },
    }


_COLUMNS: Final = (
    PrinterColumn("Ready", "status.conditions[?(@.type=='Ready')].status"),
    PrinterColumn("Reason", "status.conditions[?(@.type=='Ready')].reason"),
)

POSTGRES_DATABASE: Final = KindInfo(
    group=model.GROUP,
    kind="PostgresDatabase",
    plural="postgresdatabases",
    singular="postgresdatabase",
    short_names=("pgdb",),
    versions=(model.VERSION,),
    categories=("managed", "local"),
    description="A PostgreSQL database owned by a login role of its own, closed to other roles.",
    schema=object_schema(
        _spec(
            {
                "databaseName": _IDENT,
                "roleName": _IDENT,
                "connectionLimit": {"type": "integer", "minimum": -1},
                "passwordRotationPolicy": _ROTATION,
            }
        )
    ),
    printer_columns=(*_COLUMNS, PrinterColumn("Database", "status.atProvider.database")),
)

MYSQL_DATABASE: Final = KindInfo(
    group=model.GROUP,
    kind="MySQLDatabase",
    plural="mysqldatabases",
    singular="mysqldatabase",
    short_names=("mydb",),
    versions=(model.VERSION,),
    categories=("managed", "local"),
    description="A MariaDB/MySQL database and a user granted privileges on it only.",
    schema=object_schema(
        _spec(
            {
                "databaseName": {**_IDENT, "maxLength": model.MYSQL_MAX_DATABASE},
                "username": {**_IDENT, "maxLength": model.MYSQL_MAX_USER},
                "characterSet": {"type": "string"},
                "passwordRotationPolicy": _ROTATION,
            }
        )
    ),
    printer_columns=(*_COLUMNS, PrinterColumn("Database", "status.atProvider.database")),
)

REDIS_USER: Final = KindInfo(
    group=model.GROUP,
    kind="RedisUser",
    plural="redisusers",
    singular="redisuser",
    versions=(model.VERSION,),
    categories=("managed", "local"),
    description="A Redis ACL user confined to its key prefix and to safe commands (the local Cache).",
    schema=object_schema(
        _spec(
            {
                "username": {"type": "string"},
                "keyPrefix": {"type": "string", "pattern": "^[A-Za-z0-9_:.\\-]+:$"},
                "passwordRotationPolicy": _ROTATION,
            }
        )
    ),
    printer_columns=(*_COLUMNS, PrinterColumn("Prefix", "status.atProvider.keyPrefix")),
)

LOCAL_KINDS: Final = (POSTGRES_DATABASE, MYSQL_DATABASE, REDIS_USER)
