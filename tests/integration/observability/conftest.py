"""Fixtures for the observability integration tests: the ``promtool`` binary.

promtool comes from Debian's ``prometheus`` package (``apt-get install -y prometheus``); CI
installs it. These tests fail, never skip, when it is missing: the acceptance of the SLO rules
rests on promtool, and a silently skipped check would prove nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def promtool() -> Path:
    """The promtool executable on PATH."""
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool is not on PATH; install it with `apt-get update && apt-get install -y prometheus` "
            "(Debian's prometheus package provides promtool) and run the tests again",
            pytrace=False,
        )
    return Path(found)


def run_promtool(promtool: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool and return its result; callers assert on ``returncode`` and show the output."""
    return subprocess.run([str(promtool), *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False)
