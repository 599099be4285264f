"""ObservabilityConfig variants shared by the promtool integration tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from blacktop.observability import model

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
