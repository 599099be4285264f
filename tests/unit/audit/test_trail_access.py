"""Who may read the audit trail: one rule and one message for the API and the portal.

Test design notes: each row is a caller and whether the rule lets it read; the refusal message is
checked in full, because the API's 403 body and the portal's 403 page both show it verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from blacktop import audit
from blacktop.kernel.errors import NotAllowedError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS, SYSTEM_GROUP_AUTHENTICATED, Caller, service_caller


@dataclass(frozen=True)
class Case:
    caller: Caller
    allowed: bool


CASES = {
    "platform-admin": Case(Caller("ada", frozenset({SYSTEM_GROUP_ADMINS, SYSTEM_GROUP_AUTHENTICATED})), True),
    "controller-service-identity": Case(service_caller("catalog"), True),
    "authenticated-developer": Case(Caller("dev", frozenset({SYSTEM_GROUP_AUTHENTICATED, "team-a"})), False),
    "no-groups": Case(Caller("vera"), False),
    "look-alike-group-name": Case(Caller("eve", frozenset({"platform-admins", "system:platform-admin"})), False),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_only_platform_admins_read_the_trail(case: Case) -> None:
    assert audit.may_read_trail(case.caller) is case.allowed
    if case.allowed:
        audit.require_trail_reader(case.caller)
    else:
        with pytest.raises(NotAllowedError) as refused:
            audit.require_trail_reader(case.caller)
        assert str(refused.value) == f"{case.caller.ref} may not read the audit trail (platform-admin only)"
