"""Shared by the observability integration tests: promtool lookup and ObservabilityConfig variants.

promtool comes from Debian's ``prometheus`` package (``apt-get install -y prometheus``); CI
installs it. The tests fail, never skip, when it is missing: the acceptance of the SLO rules rests
on promtool, and a silently skipped check would prove nothing.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from blacktop.observability import model

INSTALL_HINT = "apt-get update && apt-get install -y prometheus"


def find_promtool() -> Path:
    """The promtool executable on PATH; fails the test with the install command when absent."""
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            f"promtool is not on PATH; install it with `{INSTALL_HINT}` (Debian's prometheus package "
            "provides promtool) and run the tests again",
            pytrace=False,
        )
    return Path(found)


def run_promtool(promtool: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool and return its result; callers assert on ``returncode`` and show the output."""
    return subprocess.run([str(promtool), *args], capture_output=True, text=True, cwd=cwd, timeout=300, check=False)


# tests/integration/observability/ -> the checkout; ``shared`` lies beside it (see tests/corpus.py).
SHARED = (Path(__file__).resolve().parents[3] / ".." / "shared").resolve()
DESIGN_EXAMPLE = SHARED / "examples" / "observability-payment-service.json"
SLOTH_EXAMPLES = SHARED / "corpus" / "sloth" / "examples"


def design_document() -> dict[str, Any]:
    """The design's payment-service ObservabilityConfig, unchanged."""
    document: dict[str, Any] = json.loads(DESIGN_EXAMPLE.read_text())
    return document


def _variant(**spec_changes: Any) -> model.ObservabilityConfig:
    document = copy.deepcopy(design_document())
    for path, value in spec_changes.items():
        node = document["spec"]
        *parents, leaf = path.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return model.parse_observability_config(document)


CONFIGS: dict[str, model.ObservabilityConfig] = {
    "design-payment-service": model.parse_observability_config(design_document()),
    "minimal-defaults": model.parse_observability_config(
        {"metadata": {"name": "orders"}, "spec": {"service": "orders"}}
    ),
    "whole-second-latency-threshold": _variant(alerts__slo={"availability": 0.9999, "latencyP99Ms": 2000}),
    "custom-burn-windows": _variant(
        alerts__burnRate={"fast": {"window": "2h", "threshold": 10}, "slow": {"window": "12h", "threshold": 4}}
    ),
    "low-availability-target": _variant(alerts__slo={"availability": 0.95, "latencyP99Ms": 250}),
}
