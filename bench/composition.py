"""Benchmark: composition render throughput (claims per second), pure, one core.

What one claim costs the claim and composite controllers when nothing else is involved: the
claim's XR is planned (``plan_claim``), the Composition and its revision are selected, the XR is
rendered with patch-and-transform and the composed resources are planned (``plan_composite``),
and the status is aggregated (``composite_status``). Claims are the built-in profile's
``Database`` (the design's ``orders-db`` shape with varied names, tiers and sizes), rendered with
the local Composition (one composed resource, five patches) and with the design's AWS Composition
(three composed resources, written for GitOps). A third phase measures render alone
(``render_composite`` with a pre-loaded Composition) to separate the renderer from the planners.

    .venv/bin/python bench/composition.py               # 2,000 claims per phase
    .venv/bin/python bench/composition.py --claims 10000
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import yaml

from blacktop.kernel.kinds import validate_object
from blacktop.resources import definitions, reconcile
from blacktop.resources.composition import (
    composition_from_revision,
    load_composition,
    plan_revision,
    render_composite,
)
from blacktop.resources.profile import profile_files

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TIERS = ("production", "standard", "dev")
SIZES = ("small", "medium", "large")


def _profile() -> list[dict[str, Any]]:
    return [d for _, content in profile_files() for d in yaml.safe_load_all(content) if d]


def _claims(definition: definitions.Definition, count: int, selector: dict[str, str] | None) -> list[dict[str, Any]]:
    assert definition.claim is not None
    out = []
    for i in range(count):
        spec: dict[str, Any] = {
            "engine": "postgresql",
            "version": "16",
            "tier": TIERS[i % 3],
            "size": SIZES[(i // 3) % 3],
            "owner": f"team-{i % 50}",
            "alerts": {"slack-channel": "#alerts"},
        }
        if selector:
            spec["compositionSelector"] = {"matchLabels": selector}
        claim = {
            "apiVersion": "platform.company.io/v1alpha1",
            "kind": "Database",
            "metadata": {"name": f"db-{i}", "namespace": f"team-{i % 50}", "uid": f"uid-{i}"},
            "spec": spec,
        }
        out.append(validate_object(definition.claim, claim))
    return out


def _timed(label: str, items: list[Any], work: Callable[[Any], object], *, repeats: int = 3) -> None:
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for item in items:
            work(item)
        rates.append(len(items) / (time.perf_counter() - started))
    print(f"{label:<48} {statistics.median(rates):>10,.0f} claims/s  (median of {repeats}, {len(items):,} claims)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=2000)
    args = parser.parse_args()
    docs = _profile()
    definition = definitions.load_definition(
        next(d for d in docs if d["metadata"]["name"] == "xdatabases.platform.company.io")
    )
    compositions = [d for d in docs if d["kind"] == "Composition"]
    revisions = [plan_revision(c, []).revision for c in compositions]

    def served(api_version: str, kind: str) -> bool:
        return api_version.startswith("local.blacktop.dev/")

    def full(claim: dict[str, Any]) -> None:
        planned = reconcile.plan_claim(claim, definition=definition, composite=None)
        xr = dict(planned.create_composite or {})
        xr["metadata"] = {**xr["metadata"], "uid": "xr-" + claim["metadata"]["uid"]}
        decided = reconcile.plan_composite(
            xr, definition=definition, compositions=compositions, revisions=revisions, observed=(), served=served
        )
        assert decided.error is None, decided.error
        reconcile.composite_status(decided, now=NOW)

    local = _claims(definition, args.claims, None)
    aws = _claims(definition, args.claims, {"provider": "aws", "engine": "postgresql"})
    print(f"composition render throughput, pure, one process ({args.claims:,} claims per phase)")
    _timed("claim -> XR -> composed (local, 1 resource)", local, full)
    _timed("claim -> XR -> composed (aws design, 3 resources)", aws, full)
    aws_revision = next(r for r in revisions if r["metadata"]["name"].startswith("database.platform"))
    loaded = load_composition(composition_from_revision(aws_revision))
    xrs = []
    for claim in aws:
        planned = reconcile.plan_claim(claim, definition=definition, composite=None)
        xr = copy.deepcopy(dict(planned.create_composite or {}))
        xrs.append(xr)
    _timed("render_composite only (aws design, pre-loaded)", xrs, lambda xr: render_composite(xr, loaded))


if __name__ == "__main__":
    main()
