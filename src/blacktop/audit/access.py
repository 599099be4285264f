"""Who may read the audit trail: platform admins only, one rule for every front door.

The trail names every actor, resource and denied request on the platform, so reading it is a
platform-admin privilege. The HTTP API (``/api/v1/audit``), the portal's audit page and its
dashboard all ask here, so the rule and its message exist once.
"""

from __future__ import annotations

from blacktop.kernel.errors import NotAllowedError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS, Caller


def may_read_trail(caller: Caller) -> bool:
    """Whether ``caller`` may list and verify audit records (members of the platform-admin group)."""
    return SYSTEM_GROUP_ADMINS in caller.groups


def require_trail_reader(caller: Caller) -> None:
    """Raise ``NotAllowedError`` naming the caller and the rule unless ``caller`` may read the trail."""
    if not may_read_trail(caller):
        raise NotAllowedError(f"{caller.ref} may not read the audit trail (platform-admin only)")
