"""Who may change the catalog: platform admins only, one rule for every front door.

Reads are open to every authenticated caller. Writes (registering, updating or deleting a
location, refreshing, deleting an entity) are for platform admins, because the catalog is written
through locations: whoever registers a location decides which entities, templates and owners the
platform trusts. The HTTP API and the portal both ask here, so the rule and its message exist once.
The service itself does not check: the composition root and the scaffolder's ``catalog:register``
step call it on behalf of the platform.
"""

from __future__ import annotations

from blacktop.kernel.errors import NotAllowedError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS, Caller


def may_change_catalog(caller: Caller) -> bool:
    """Whether ``caller`` may register, refresh or delete locations and entities."""
    return SYSTEM_GROUP_ADMINS in caller.groups


def require_catalog_writer(caller: Caller) -> None:
    """Raise ``NotAllowedError`` naming the caller and the rule unless ``caller`` may change the catalog."""
    if not may_change_catalog(caller):
        raise NotAllowedError(
            f"{caller.ref} may read the catalog but not change it; the catalog is written through locations "
            "by platform admins"
        )
