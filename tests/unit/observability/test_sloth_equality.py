"""Blacktop's SLO rules equal Sloth's generated rules for every corpus example and integration case.

Test design notes: every file in ``examples/_gen`` is a case. The ones whose spec uses a Sloth
plugin blacktop does not implement (SLI plugins, contrib SLO plugins, VictoriaMetrics) are listed
in ``UNSUPPORTED`` with the plugin path blacktop must name when it rejects them, so a spec is never
silently mis-generated and newly supported plugins turn into equality cases by moving a line.
"""

from __future__ import annotations

import pytest

from blacktop.kernel.errors import InputError
from blacktop.observability import rules, slo

from .sloth_corpus import (
    SlothCase,
    example_cases,
    expected_documents,
    generate,
    integration_cases,
    normalise_expr,
    normalise_groups,
)

# Example -> problem paths blacktop reports. promtool 2.42 rejects both outputs anyway (a UTF-8
# label name, a MetricsQL function), so the acceptance does not cover them.
UNSUPPORTED = {
    "contrib-slo-plugins.yml": ["slos[0].plugins.chain[0].id", "slos[1].plugins.chain[0].id"],
    "victoria-metrics.yml": [f"slo_plugins.chain[{i}].id" for i in range(4)],
}
EXAMPLES = example_cases()
SUPPORTED = {name: case for name, case in EXAMPLES.items() if name not in UNSUPPORTED}
ALL_CASES = {**SUPPORTED, **integration_cases()}


def _expected_groups(case: SlothCase) -> list[dict[str, object]]:
    return [g for d in expected_documents(case) for g in (d.get("spec") or d)["groups"]]


@pytest.mark.parametrize("case", ALL_CASES.values(), ids=ALL_CASES.keys())
def test_rules_equal_sloths_output(case: SlothCase) -> None:
    ours = rules.groups_to_dict(generate(case))["groups"]
    assert isinstance(ours, list)
    assert normalise_groups(ours) == normalise_groups(_expected_groups(case))


# Sloth indents OpenSLO's wrapped query with its own template; those are compared normalised only.
VERBATIM = {name: case for name, case in ALL_CASES.items() if "openslo" not in name}


@pytest.mark.parametrize("case", VERBATIM.values(), ids=VERBATIM.keys())
def test_expressions_are_byte_identical_to_sloths(case: SlothCase) -> None:
    """Stronger than the acceptance: expressions match Sloth's text exactly (up to a final newline)."""
    ours = [r["expr"] for g in rules.groups_to_dict(generate(case))["groups"] for r in g["rules"]]  # type: ignore[index]
    theirs = [r["expr"] for g in _expected_groups(case) for r in g["rules"]]  # type: ignore[index]
    assert [str(e).rstrip("\n") for e in ours] == [str(e).rstrip("\n") for e in theirs]


@pytest.mark.parametrize("name", UNSUPPORTED.keys())
def test_unsupported_plugins_are_rejected_with_their_paths(name: str) -> None:
    with pytest.raises(InputError) as info:
        generate(EXAMPLES[name])
    assert [p.path for p in info.value.problems] == UNSUPPORTED[name]
    assert all("not supported" in p.message for p in info.value.problems)


def test_every_generated_example_is_either_compared_or_declared_unsupported() -> None:
    assert set(EXAMPLES) == set(SUPPORTED) | set(UNSUPPORTED)
    assert len(SUPPORTED) == 16


@pytest.mark.parametrize(
    ("given", "want"),
    [
        pytest.param("(a)\n/\n(b)\n", "(a) / (b)", id="newlines-collapse"),
        pytest.param("( \n  x  )", "(x)", id="space-inside-parens-drops"),
        pytest.param("vector(0.99900)", "vector(0.999)", id="trailing-zeros"),
        pytest.param("x > (1.0e-3 * 2)", "x > (0.001 * 2)", id="exponent-spelling"),
        pytest.param("rate(x[5m]) > 14.4", "rate(x[5m]) > 14.4", id="durations-untouched"),
    ],
)
def test_normalisation_only_forgives_whitespace_and_float_spelling(given: str, want: str) -> None:
    assert normalise_expr(given) == want


def test_a_changed_expression_is_not_equal() -> None:
    case = SUPPORTED["getting-started.yml"]
    ours = normalise_groups(rules.groups_to_dict(generate(case))["groups"])  # type: ignore[arg-type]
    ours[2]["rules"][0]["expr"] = ours[2]["rules"][0]["expr"].replace("14.4", "14.5")
    assert ours != normalise_groups(_expected_groups(case))


K8S = {name: case for name, case in ALL_CASES.items() if "k8s" in name}


@pytest.mark.parametrize("case", K8S.values(), ids=K8S.keys())
def test_kubernetes_specs_keep_their_name_and_namespace(case: SlothCase) -> None:
    levels = slo.load_service_levels(case.input.read_text())
    want = [(d["metadata"]["name"], d["metadata"]["namespace"]) for d in expected_documents(case)]
    assert [(lv.name, lv.namespace) for lv in levels] == want
