"""The Sloth corpus as test cases: each input spec, how Sloth was run, and the rules it generated.

Shared by the equality tests (unit) and the promtool checks (integration). Expressions are compared
after normalising whitespace (runs collapse to one space, none just inside parentheses) and float
spelling (every number re-printed from its float value), as the issue's acceptance asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from blacktop.observability import alert_windows, rules, slo

# tests/unit/observability/ -> the checkout; ``shared`` lies beside it (see tests/corpus.py).
SHARED = (Path(__file__).resolve().parents[3] / ".." / "shared").resolve()
SLOTH = SHARED / "corpus" / "sloth"
EXAMPLES = SLOTH / "examples"
GEN = EXAMPLES / "_gen"
INTEGRATION = SLOTH / "integration-testdata"

MODES = {
    slo.SPEC_PROMETHEUS_V1: "cli-gen-prom",
    slo.SPEC_KUBERNETES_V1: "cli-gen-k8s",
    slo.SPEC_OPENSLO_V1ALPHA: "cli-gen-openslo",
}


@dataclass(frozen=True)
class SlothCase:
    """One ``sloth generate`` run: input, expected output, and the flags it was run with."""

    input: Path
    expected: Path
    version: str
    extra_labels: dict[str, str] = field(default_factory=dict)
    windows: alert_windows.AlertWindows = alert_windows.GOOGLE_30D
    include_alerts: bool = True
    include_recordings: bool = True


def _windows_7d() -> alert_windows.AlertWindows:
    return alert_windows.parse_alert_windows(yaml.safe_load((INTEGRATION / "windows" / "7d.yaml").read_text()))


def example_cases() -> dict[str, SlothCase]:
    """Every example with generated output (``examplesgen.sh``: version dev, label cmd)."""
    return {
        path.name: SlothCase(
            input=EXAMPLES / path.name,
            expected=path,
            version="dev",
            extra_labels={"cmd": "examplesgen.sh"},
        )
        for path in sorted(GEN.iterdir())
    }


def integration_cases() -> dict[str, SlothCase]:
    """Sloth's own CLI integration cases whose flags blacktop supports."""
    base = INTEGRATION / "in-base.yaml"
    version = "v-test"

    def case(inp: str, out: str, **kw: Any) -> SlothCase:
        return SlothCase(input=INTEGRATION / inp, expected=INTEGRATION / out, version=version, **kw)

    return {
        "it-base": case("in-base.yaml", "out-base.yaml.tpl"),
        "it-base-28d": case("in-base.yaml", "out-base-28d.yaml.tpl", windows=alert_windows.GOOGLE_28D),
        "it-base-7d": case("in-base.yaml", "out-base-custom-windows-7d.yaml.tpl", windows=_windows_7d()),
        "it-extra-labels": case(
            base.name, "out-base-extra-labels.yaml.tpl", extra_labels={"exk1": "exv1", "exk2": "exv2"}
        ),
        "it-no-alerts": case(base.name, "out-base-no-alerts.yaml.tpl", include_alerts=False),
        "it-no-recordings": case(base.name, "out-base-no-recordings.yaml.tpl", include_recordings=False),
        "it-k8s": case("in-base-k8s.yaml", "out-base-k8s.yaml.tpl"),
        "it-multifile": case("in-multifile.yaml", "out-multifile.yaml.tpl"),
        "it-multifile-k8s": case("in-multifile-k8s.yaml", "out-multifile-k8s.yaml.tpl"),
        "it-openslo": case("in-openslo.yaml", "out-openslo.yaml.tpl"),
    }


def expected_documents(case: SlothCase) -> list[dict[str, Any]]:
    """Sloth's output documents (rules files or PrometheusRule objects), version filled in."""
    text = case.expected.read_text()
    if case.expected.suffix == ".tpl":
        # The expected outputs are Go templates: fill the version, unquote escaped {{"{{...}}"}}.
        text = text.replace("{{ .version }}", case.version)
        text = re.sub(r'\{\{"(.*?)"\}\}', lambda m: m.group(1), text)
    return [d for d in yaml.safe_load_all(text) if d]


def generate(case: SlothCase) -> list[rules.RuleGroup]:
    """Blacktop's rule groups for a case, generated as Sloth's CLI would with the case's flags."""
    groups: list[rules.RuleGroup] = []
    for level in slo.load_service_levels(case.input.read_text(), source=case.input.name):
        info = rules.GeneratorInfo(version=case.version, mode=MODES[level.spec], spec=level.spec)
        groups.extend(
            rules.compute_rule_groups(
                level,
                windows=case.windows,
                info=info,
                extra_labels=case.extra_labels,
                include_alerts=case.include_alerts,
                include_recordings=case.include_recordings,
            )
        )
    return groups


_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d+(?:e[+-]?\d+)?|\d+e[+-]?\d+)(?![\w.])")


def normalise_expr(expr: str) -> str:
    """Whitespace- and float-spelling-insensitive form of a PromQL expression."""
    text = re.sub(r"\s+", " ", expr).strip()
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    return _NUMBER.sub(lambda m: repr(float(m.group(1))), text)


def normalise_groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rule groups with expressions normalised and label/annotation maps as plain sorted dicts."""
    out = []
    for group in groups:
        rules_out = []
        for rule in group["rules"]:
            item = {k: v for k, v in rule.items() if k not in ("expr", "labels", "annotations")}
            item["expr"] = normalise_expr(str(rule["expr"]))
            for key in ("labels", "annotations"):
                item[key] = dict(sorted((rule.get(key) or {}).items()))
            rules_out.append(item)
        out.append({"name": group["name"], "rules": rules_out})
    return out
