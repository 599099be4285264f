"""``promtool test rules`` drives synthetic series through the rules blacktop generates.

Test design notes: the scenarios and their hand-worked expectations live in
``promtool/payment-service-slo.test.yml`` (2% errors pages within the 1h fast window, 0.5% only
tickets, no errors is silent, latency alerts when p99 passes 500ms). The rules come from the
design's payment-service config, unchanged. The same scenarios run against deliberately different
rules must fail, which shows the scenarios check the thresholds rather than pass vacuously.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
from observability_support import design_document, run_promtool

from blacktop.observability import model, rendering

SCENARIOS = Path(__file__).resolve().parent / "promtool" / "payment-service-slo.test.yml"


def _run(promtool: Path, tmp_path: Path, config: model.ObservabilityConfig) -> tuple[int, str]:
    (tmp_path / "rules.yml").write_text(rendering.render_outputs(config).rules_file)
    shutil.copy(SCENARIOS, tmp_path / SCENARIOS.name)
    result = run_promtool(promtool, "test", "rules", SCENARIOS.name, cwd=tmp_path)
    return result.returncode, result.stdout + result.stderr


def test_design_rules_pass_the_hand_worked_scenarios(promtool: Path, tmp_path: Path) -> None:
    code, output = _run(promtool, tmp_path, model.parse_observability_config(design_document()))
    assert code == 0, output
    assert "SUCCESS" in output


def _changed(**alerts: object) -> model.ObservabilityConfig:
    document = copy.deepcopy(design_document())
    document["spec"]["alerts"].update(alerts)
    return model.parse_observability_config(document)


WRONG_RULES = {
    # 1h > 10*B fires the page at k = 31, before the scenarios' 403m "no page yet" point.
    "looser-fast-page-threshold": _changed(
        burnRate={"fast": {"window": "1h", "threshold": 10}, "slow": {"window": "6h", "threshold": 6}}
    ),
    # B = 0.01: 2% errors no longer page and 0.5% no longer tickets.
    "99-percent-availability": _changed(slo={"availability": 0.99, "latencyP99Ms": 500}),
    # A 1s threshold: 0.975s is within it, so the latency page of scenario 4 never fires.
    "one-second-latency-threshold": _changed(slo={"availability": 0.999, "latencyP99Ms": 1000}),
}


@pytest.mark.parametrize("config", WRONG_RULES.values(), ids=WRONG_RULES.keys())
def test_scenarios_fail_against_rules_with_other_thresholds(
    promtool: Path, tmp_path: Path, config: model.ObservabilityConfig
) -> None:
    code, output = _run(promtool, tmp_path, config)
    assert code != 0, output
    assert "FAILED" in output
