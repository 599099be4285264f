"""Every rules file blacktop generates passes ``promtool check rules``.

Test design notes: the cases cover the design's payment-service, a defaults-only config and
variants that change the number formats in the rules (whole-second latency thresholds, custom
burn windows, a 95% objective), plus blacktop's rendering of every Sloth corpus spec it supports.
The PrometheusRule's ``spec`` is checked too, since that is what the operator loads. A broken file
is shown to fail, so the check is known to bite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from observability_support import CONFIGS, SLOTH_EXAMPLES, find_promtool, run_promtool

from blacktop.observability import model, prometheus, rendering, rules, slo

# Sloth examples blacktop renders (the other two use plugins blacktop rejects; see the unit tests).
SLOTH_SPECS = sorted(
    p
    for p in SLOTH_EXAMPLES.iterdir()
    if p.is_file() and p.name not in {"contrib-slo-plugins.yml", "victoria-metrics.yml"}
)


def _check(promtool: Path, path: Path) -> None:
    result = run_promtool(promtool, "check", "rules", str(path))
    assert result.returncode == 0, f"promtool rejected {path.name}:\n{result.stdout}\n{result.stderr}"
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_generated_rules_file_passes_promtool(
    promtool: Path, tmp_path: Path, config: model.ObservabilityConfig
) -> None:
    outputs = rendering.render_outputs(config)
    path = tmp_path / "rules.yml"
    path.write_text(outputs.rules_file)
    _check(promtool, path)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_prometheusrule_spec_passes_promtool(promtool: Path, tmp_path: Path, config: model.ObservabilityConfig) -> None:
    outputs = rendering.render_outputs(config)
    path = tmp_path / "prometheusrule-spec.yml"
    path.write_text(prometheus.dump_yaml(outputs.prometheus_rule["spec"]))
    _check(promtool, path)


@pytest.mark.parametrize("spec", SLOTH_SPECS, ids=[p.name for p in SLOTH_SPECS])
def test_rules_from_sloth_specs_pass_promtool(promtool: Path, tmp_path: Path, spec: Path) -> None:
    """One rules file per spec document, as Sloth writes them (multifile specs repeat alert names)."""
    for index, level in enumerate(slo.load_service_levels(spec.read_text(), source=spec.name)):
        path = tmp_path / f"rules-{index}.yml"
        path.write_text(prometheus.render_rules_file(rules.compute_rule_groups(level)))
        _check(promtool, path)


def test_promtool_check_rejects_a_broken_rules_file(promtool: Path, tmp_path: Path) -> None:
    outputs = rendering.render_outputs(CONFIGS["design-payment-service"])
    document = yaml.safe_load(outputs.rules_file)
    document["groups"][0]["rules"][0]["expr"] = "sum(rate(x[5m])"  # unbalanced parenthesis
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(document))
    result = run_promtool(promtool, "check", "rules", str(path))
    assert result.returncode != 0, result.stdout


def test_promtool_fixture_reports_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without promtool the fixture fails with the install command, rather than skipping."""
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y prometheus"):
        find_promtool()


SLOTH_GEN = sorted((SLOTH_EXAMPLES / "_gen").iterdir())


def test_promtool_rejects_exactly_the_sloth_outputs_blacktop_does_not_generate(promtool: Path, tmp_path: Path) -> None:
    """Ties the equality acceptance to promtool: every ``_gen`` output promtool accepts is compared.

    ``tests/unit/observability/test_sloth_equality.py`` compares every example except its
    ``UNSUPPORTED`` ones; those must be exactly the outputs promtool 2.42 rejects.
    """
    rejected = set()
    for gen in SLOTH_GEN:
        documents = [d for d in yaml.safe_load_all(gen.read_text()) if d]
        for index, document in enumerate(documents):
            path = tmp_path / f"{gen.stem}-{index}.yml"
            path.write_text(yaml.safe_dump(document.get("spec", document)))
            if run_promtool(promtool, "check", "rules", str(path)).returncode != 0:
                rejected.add(gen.name)
    assert rejected == {"contrib-slo-plugins.yml", "victoria-metrics.yml"}
