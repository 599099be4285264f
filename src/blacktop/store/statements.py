"""The write path's SQL, built once with bind parameters instead of per call.

Building a SQLAlchemy statement costs more CPU than SQLite takes to run it, and every write runs
the same few statements, so they are module constants here and calls pass only parameter dicts.
Revisions are computed inside the statements (``max(revision) + 1``), which is safe because every
write transaction holds the store's write lock; that saves a round trip per write.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Delete, Insert, Select, Update, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .records import AUDIT_COLUMNS
from .tables import AuditRecordRow, EventRow, ResourceLabelRow, ResourceRow

NEXT_REVISION: Final = select(func.coalesce(func.max(EventRow.revision), 0) + 1).scalar_subquery()
"""The revision the next change gets; only meaningful under the write lock."""

_KEY = (
    (ResourceRow.group == bindparam("group"))
    & (ResourceRow.kind == bindparam("kind"))
    & (ResourceRow.namespace == bindparam("namespace"))
    & (ResourceRow.name == bindparam("name"))
)

SELECT_STORED: Final[Select[Any]] = select(ResourceRow.uid, ResourceRow.resource_version, ResourceRow.document).where(
    _KEY
)
"""uid, resource_version and document of the object with key (group, kind, namespace, name)."""

SELECT_DOCUMENT: Final[Select[Any]] = select(ResourceRow.document, ResourceRow.resource_version).where(_KEY)
"""document and resource_version of the object with key (group, kind, namespace, name)."""

_RESOURCE_VALUES = {
    "uid": bindparam("uid"),
    "group": bindparam("group"),
    "kind": bindparam("kind"),
    "namespace": bindparam("namespace"),
    "name": bindparam("name"),
    "resource_version": NEXT_REVISION,
    "document": bindparam("document", type_=ResourceRow.document.type),
    "created_at": bindparam("created_at", type_=ResourceRow.created_at.type),
}
_KEY_COLUMNS = ["group", "kind", "namespace", "name"]


def insert_resource(dialect: str) -> Insert:
    """Insert an object at the next revision unless its key is taken; RETURNING its revision (no row: taken)."""
    if dialect == "postgresql":
        pg = postgresql.insert(ResourceRow).values(_RESOURCE_VALUES).on_conflict_do_nothing(index_elements=_KEY_COLUMNS)
        return pg.returning(ResourceRow.resource_version)
    lite = sqlite.insert(ResourceRow).values(_RESOURCE_VALUES).on_conflict_do_nothing(index_elements=_KEY_COLUMNS)
    return lite.returning(ResourceRow.resource_version)


UPDATE_RESOURCE: Final[Update] = (
    update(ResourceRow)
    .where(ResourceRow.uid == bindparam("target_uid"))
    .values(resource_version=NEXT_REVISION, document=bindparam("document", type_=ResourceRow.document.type))
    .returning(ResourceRow.resource_version)
)
"""Replace the document of object ``target_uid`` at the next revision; RETURNING that revision."""

DELETE_RESOURCE: Final[Delete] = delete(ResourceRow).where(ResourceRow.uid == bindparam("uid"))
"""Delete object ``uid`` (its label rows go with it: ON DELETE CASCADE)."""

INSERT_LABELS: Final[Insert] = insert(ResourceLabelRow)
"""Insert label rows (executemany with one dict per label)."""

DELETE_LABELS: Final[Delete] = delete(ResourceLabelRow).where(ResourceLabelRow.uid == bindparam("uid"))
"""Delete every label row of object ``uid``."""

INSERT_EVENT: Final[Insert] = insert(EventRow)
"""Insert one event with an explicit revision."""

INSERT_EVENT_AT_NEXT_REVISION: Final[Insert] = (
    insert(EventRow)
    .values(
        revision=NEXT_REVISION,
        type=bindparam("type"),
        group=bindparam("group"),
        kind=bindparam("kind"),
        namespace=bindparam("namespace"),
        name=bindparam("name"),
        object=bindparam("object", type_=EventRow.object.type),
    )
    .returning(EventRow.revision)
)
"""Insert one event at the next revision; RETURNING that revision."""

SELECT_LAST_AUDIT: Final[Select[Any]] = select(*AUDIT_COLUMNS).order_by(AuditRecordRow.seq.desc()).limit(1)
"""The newest audit record."""

INSERT_AUDIT: Final[Insert] = insert(AuditRecordRow)
"""Insert one audit record."""
