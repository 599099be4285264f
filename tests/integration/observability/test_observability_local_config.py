"""Local mode's Prometheus configuration passes ``promtool check config`` (which also checks its rule files).

Test design notes: the configs are the design's payment-service plus catalog-derived ones (so a
mix of latency SLOs and none), written exactly as local mode writes them; promtool follows
``rule_files`` and checks every rules file too. A broken config is shown to fail.
"""

from __future__ import annotations

from pathlib import Path

from observability_support import design_document, run_promtool

from blacktop.observability import defaulting, local, model


def _write(files: dict[str, str], root: Path) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root / local.CONFIG_FILE


def _configs() -> list[model.ObservabilityConfig]:
    catalog = [
        {"kind": "Group", "metadata": {"name": "search", "annotations": {"slack.com/channel": "search"}}, "spec": {}},
        *(
            {"kind": "Component", "metadata": {"name": f"svc-{i}"}, "spec": {"type": "service", "owner": "search"}}
            for i in range(3)
        ),
    ]
    derived = [model.parse_observability_config(d) for d in defaulting.compute_catalog_configs(catalog).configs]
    return [model.parse_observability_config(design_document()), *derived]


def test_local_prometheus_config_and_rules_pass_promtool(promtool: Path, tmp_path: Path) -> None:
    files = local.render_local_files(_configs(), platform_target="127.0.0.1:7007")
    assert sorted(files) == [
        "prometheus.yml",
        "rules/payments--payment-service.yml",
        "rules/search--svc-0.yml",
        "rules/search--svc-1.yml",
        "rules/search--svc-2.yml",
    ]
    result = run_promtool(promtool, "check", "config", str(_write(files, tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 4 rule files found" in result.stdout


def test_a_broken_local_config_fails_the_check(promtool: Path, tmp_path: Path) -> None:
    files = local.render_local_files(_configs(), platform_target="127.0.0.1:7007")
    files["rules/search--svc-0.yml"] = "groups:\n- name: x\n  rules:\n  - record: bad name\n    expr: up\n"
    result = run_promtool(promtool, "check", "config", str(_write(files, tmp_path)))
    assert result.returncode != 0
