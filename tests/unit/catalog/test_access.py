"""Who may change the catalog: one rule and one message for the API's writes and the portal's refresh.

Test design notes: each row is a caller and whether the rule lets it write; the refusal message is
checked in full, because the API's 403 body and the portal's 403 page both show it verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from blacktop import catalog
from blacktop.kernel.errors import NotAllowedError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS, SYSTEM_GROUP_AUTHENTICATED, Caller, service_caller


@dataclass(frozen=True)
class Case:
    caller: Caller
    allowed: bool


CASES = {
    "platform-admin": Case(Caller("ada", frozenset({SYSTEM_GROUP_ADMINS, SYSTEM_GROUP_AUTHENTICATED})), True),
    "controller-service-identity": Case(service_caller("scaffolder"), True),
    "authenticated-developer": Case(Caller("dev", frozenset({SYSTEM_GROUP_AUTHENTICATED, "team-a"})), False),
    "no-groups": Case(Caller("vera"), False),
    "look-alike-group-name": Case(Caller("eve", frozenset({"platform-admins", "system:platform-admin"})), False),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_only_platform_admins_change_the_catalog(case: Case) -> None:
    assert catalog.may_change_catalog(case.caller) is case.allowed
    if case.allowed:
        catalog.require_catalog_writer(case.caller)
    else:
        with pytest.raises(NotAllowedError) as refused:
            catalog.require_catalog_writer(case.caller)
        assert str(refused.value) == (
            f"{case.caller.ref} may read the catalog but not change it; the catalog is written through locations "
            "by platform admins"
        )
