"""A second replica serves the kinds an XRD registers on the first, from the event log.

Test design notes: two platforms share one SQLite state database, as two ``blacktop up``
processes would; the XRD is written through replica A only. Replica B learns of it by following
the event log (no restart, no shared memory) and then serves and reconciles the claim kind.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from blacktop.apiserver import RequestContext
from blacktop.bootstrap import build_platform, running
from blacktop.kernel.errors import NotFoundError
from blacktop.kernel.identity import service_caller
from blacktop.kernel.resources import ResourceKey, is_condition_true
from tests.e2e.test_resources_lifecycle import WIDGET_COMPOSITION, WIDGET_XRD, widget
from tests.fixtures.platform import settings_for

CTX = RequestContext(caller=service_caller("replica-test"), request_id="replicas")


async def test_an_xrd_applied_on_one_replica_is_served_by_the_other(tmp_path: Path) -> None:
    first = await build_platform(settings_for(tmp_path / "state"))
    second = await build_platform(settings_for(tmp_path / "state"))
    async with running(first), running(second):
        try:
            second.kinds.resolve("widgets")
            raise AssertionError("widgets must not be served before the XRD exists")
        except NotFoundError:
            pass
        await first.resources.apply(CTX, [("xrd", WIDGET_XRD), ("composition", WIDGET_COMPOSITION)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                info = second.kinds.resolve("widgets")
                break
            except NotFoundError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("replica B never served widgets")
        assert info.namespaced and info.origin == "xrd:xwidgets.test.blacktop.dev"
        await second.resources.create(CTX, info, widget("w9"), namespace="team-a")
        key = ResourceKey("test.blacktop.dev", "Widget", "team-a", "w9")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            claim = await second.store.get(key)
            if claim is not None and is_condition_true(claim, "Ready"):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the claim never became Ready: {claim}")
