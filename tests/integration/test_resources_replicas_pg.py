"""Two replicas on PostgreSQL share the claim lifecycle through the ``resources`` lease group.

Test design notes: both platforms run their engines on one PostgreSQL state database (shard
leases on). A batch of claims is applied through replica A; every claim must become Ready exactly
once: one composite per claim and one composed resource per composite, whichever replica owned
each claim's shard. The composed kind is a tenancy RoleBinding (always served), so the test
depends on no database server beyond the state store.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from blacktop.apiserver import RequestContext
from blacktop.bootstrap import build_platform, running
from blacktop.kernel.identity import service_caller
from blacktop.kernel.ports import ListQuery
from blacktop.kernel.resources import ResourceKey, is_condition_true
from tests.e2e.test_resources_lifecycle import WIDGET_COMPOSITION, WIDGET_XRD, widget
from tests.fixtures.platform import settings_for

pytestmark = pytest.mark.pg
CTX = RequestContext(caller=service_caller("replica-test"), request_id="replicas")
CLAIMS = 12


async def test_two_replicas_compose_each_claim_once(tmp_path: Path, postgres_url: str) -> None:
    first = await build_platform(settings_for(tmp_path / "a", database_url=postgres_url))
    second = await build_platform(settings_for(tmp_path / "b", database_url=postgres_url))
    async with running(first), running(second):
        await first.resources.apply(CTX, [("xrd", WIDGET_XRD), ("composition", WIDGET_COMPOSITION)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if "widgets" in {k.plural for k in first.kinds.all()}:
                break
            await asyncio.sleep(0.05)
        await first.resources.apply(CTX, [(f"w{i}", widget(f"w{i}")) for i in range(CLAIMS)])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            claims = [await first.store.get(ResourceKey("test.blacktop.dev", "Widget", "team-a", f"w{i}"))
                      for i in range(CLAIMS)]  # fmt: skip
            if all(c is not None and is_condition_true(c, "Ready") for c in claims):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("not every claim became Ready")
        composites = await first.store.list(ListQuery(group="test.blacktop.dev", kind="XWidget"))
        bindings = await first.store.list(
            ListQuery(group="tenancy.blacktop.dev", kind="RoleBinding", namespace="team-a")
        )
        assert len(composites.items) == CLAIMS
        assert len([b for b in bindings.items if b["metadata"].get("ownerReferences")]) == CLAIMS
