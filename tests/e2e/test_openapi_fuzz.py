"""Schemathesis fuzzes the served OpenAPI document against a live server: no request may cause a 5xx.

Bounded in time (``--max-time``) so the suite stays fast; the seed is printed on failure so a
finding can be replayed with ``schemathesis run ... --seed``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.fixtures.platform import LiveServer


def test_no_generated_request_causes_a_server_error(live_server: LiveServer) -> None:
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert binary, "schemathesis is a dev dependency; run ./scripts/test to install it"
    result = subprocess.run(
        [
            binary,
            "run",
            f"{live_server.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--header",
            f"Authorization: Bearer {live_server.token}",
            "--max-examples",
            "8",
            "--max-time",
            "40",
            "--request-timeout",
            "10",
            "--workers",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    tail = (result.stdout + result.stderr)[-4000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout, tail
