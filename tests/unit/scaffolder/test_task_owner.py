"""Who may cancel a task or roll it back: its creator or a platform admin, nobody else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blacktop.kernel.errors import NotAllowedError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS, Caller, CallerKind, service_caller
from blacktop.scaffolder import tasks
from blacktop.scaffolder.service import creator_ref, require_task_owner


def user(name: str, *groups: str) -> Caller:
    return Caller(kind=CallerKind.USER, name=name, groups=frozenset(groups))


TASK = tasks.Task(
    id="t1",
    spec=tasks.TaskSpec(template={}, template_ref="template:default/x", values={}),
    status="failed",
    created_at=datetime(2026, 11, 26, tzinfo=UTC),
    created_by="user:default/alice",
)

CASES = {
    "its creator": (user("alice"), True),
    "a platform admin": (user("root", SYSTEM_GROUP_ADMINS), True),
    "a controller's service identity": (service_caller("scaffolder"), True),
    "another user": (user("bob", "payments-engineers"), False),
}


@pytest.mark.parametrize(("caller", "allowed"), CASES.values(), ids=CASES.keys())
def test_only_the_creator_or_an_admin_may_cancel_or_roll_back(caller: Caller, allowed: bool) -> None:
    if allowed:
        require_task_owner(TASK, caller, "cancel")
        return
    with pytest.raises(NotAllowedError, match=r"user:bob may not cancel task t1: only the user who created it"):
        require_task_owner(TASK, caller, "cancel")


def test_a_task_records_its_creator_as_backstage_names_users() -> None:
    assert creator_ref(user("alice")) == "user:default/alice"
