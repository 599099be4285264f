"""Golden files: every output generated from the design's payment-service ObservabilityConfig.

The design's resource (``../shared/examples/observability-payment-service.json``) is applied
unchanged and each output file is compared with ``tests/golden/observability/payment-service/``.

Regenerate after an intended change, then review the diff like code::

    BLACKTOP_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/observability/test_golden_payment_service.py
    # or, once the root conftest registers the option: pytest --update-golden

A missing golden file fails the test (it is never created silently outside update mode), and files
in the golden folder that blacktop no longer generates fail too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from blacktop.observability import model, rendering

from .sloth_corpus import SHARED

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "observability" / "payment-service"
DESIGN = SHARED / "examples" / "observability-payment-service.json"
# Pinned so that a version bump does not churn the golden files (the label is sloth_version).
VERSION = "golden"


def _update_mode(config: pytest.Config) -> bool:
    return bool(os.environ.get("BLACKTOP_UPDATE_GOLDEN")) or bool(config.getoption("--update-golden", False))


def _files() -> dict[str, str]:
    config = model.parse_observability_config(json.loads(DESIGN.read_text()))
    return rendering.render_files(rendering.render_outputs(config, version=VERSION))


FILES = _files()


@pytest.mark.parametrize("name", FILES.keys())
def test_output_matches_golden_file(name: str, request: pytest.FixtureRequest) -> None:
    path = GOLDEN / name
    if _update_mode(request.config):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FILES[name])
    assert path.exists(), f"golden file {path} is missing; regenerate with BLACKTOP_UPDATE_GOLDEN=1"
    assert FILES[name] == path.read_text()


def test_golden_folder_holds_only_generated_files() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(FILES)


def test_design_example_applies_unchanged() -> None:
    document = json.loads(DESIGN.read_text())
    config = model.parse_observability_config(document)
    dumped = config.model_dump(by_alias=True, exclude_none=True, exclude={"status"})
    # Every field the design wrote comes back with the value it wrote (defaults may add fields).
    assert _subset(document, dumped)


def _subset(want: object, got: object) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and _subset(v, got[k]) for k, v in want.items())
    return want == got
