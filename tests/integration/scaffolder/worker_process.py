"""A scaffolder worker as its own process for the kill -9 tests: ``python -m ... <data_dir> <lease> <db url>``.

It builds the platform on the test's database (SQLite file or PostgreSQL) with one worker and the test's slow,
non-repeatable action registered, prints ``ready`` and works until it is killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from blacktop.bootstrap import build_platform, running
from tests.fixtures.platform import settings_for
from tests.integration.scaffolder.slow_actions import SlowOnce


async def main(data_dir: Path, lease_seconds: float, database_url: str) -> None:
    settings = settings_for(
        data_dir,
        database_url=database_url,
        engine={"enabled": False},
        scaffolder={"workers": 1, "lease_seconds": lease_seconds, "poll_seconds": 0.05, "register_builtin": False},
    )
    platform = await build_platform(settings)
    platform.wiring.services["scaffolder"].registry.add(SlowOnce())
    async with running(platform):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3]))
