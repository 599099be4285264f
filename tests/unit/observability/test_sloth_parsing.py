"""Parsing Sloth specs: Sloth's own good and bad validation files, and every problem with its path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.kernel.errors import InputError
from blacktop.observability import alert_windows, rules, slo

from .sloth_corpus import INTEGRATION

GOOD = sorted((INTEGRATION / "validate" / "good").iterdir())
BAD = {
    "bad-aa.yaml": ["slos[1].objective"],
    "bad-ab.yaml": ["slos[1].objective"],
    "bad-ba.yaml": ["slos[1].objective"],
    "bad-k8s.yaml": ["spec.service"],
    "bad-multi-k8s.yaml": ["spec.slos[0].alerting.name"],
    "bad-multi.yaml": None,  # checked below: at least one problem, located in the second document
    "bad-openslo.yaml": ["spec.timeWindows[0]"],
}


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_sloths_good_specs_parse(path: Path) -> None:
    assert slo.load_service_levels(path.read_text(), source=path.name)


@pytest.mark.parametrize("name", BAD.keys())
def test_sloths_bad_specs_are_rejected(name: str) -> None:
    with pytest.raises(InputError) as info:
        slo.load_service_levels((INTEGRATION / "validate" / "bad" / name).read_text(), source=name)
    paths = [p.path for p in info.value.problems]
    if BAD[name] is None:
        assert paths
        assert all(p.document and p.document.startswith(name) for p in info.value.problems)
    else:
        assert paths == BAD[name]


def test_every_problem_of_a_spec_is_collected() -> None:
    spec = {
        "version": "prometheus/v1",
        "service": "",
        "slos": [
            {
                "name": "-bad-",
                "objective": 0,
                "sli": {"events": {"error_query": "sum(x)", "total_query": "sum(y[{{.window}}])"}},
                "alerting": {},
            },
            {"name": "two", "objective": 99, "sli": {"raw": {"error_ratio_query": "x"}, "events": {}}},
            {
                "name": "three",
                "objective": 99,
                "sli": {"events": {"error_query": "a[{{.window}}]", "total_query": "a[{{.window}}]"}},
                "alerting": {"page_alert": {"disable": True}, "ticket_alert": {"disable": True}},
            },
        ],
    }
    with pytest.raises(InputError) as info:
        slo.parse_service_level(spec)
    assert [p.path for p in info.value.problems] == [
        "service",
        "slos[0].name",
        "slos[0].objective",
        "slos[0].sli.events.error_query",
        "slos[0].alerting.name",
        "slos[1].sli",
        "slos[1].alerting.name",
        "slos[2].sli.events",
    ]


def test_duplicate_slo_names_are_rejected() -> None:
    off = {"page_alert": {"disable": True}, "ticket_alert": {"disable": True}}
    one = {"name": "same", "objective": 99, "sli": {"raw": {"error_ratio_query": "x[{{.window}}]"}}, "alerting": off}
    spec = {"version": "prometheus/v1", "service": "s", "slos": [one, one]}
    with pytest.raises(InputError) as info:
        slo.parse_service_level(spec)
    assert [p.path for p in info.value.problems] == ["slos[1].name"]


def test_unknown_spec_version_names_the_supported_ones() -> None:
    with pytest.raises(InputError, match="'prometheus/v2' is not supported") as info:
        slo.parse_service_level({"version": "prometheus/v2"})
    assert "openslo/v1alpha" in info.value.problems[0].message


def test_window_placeholder_with_spaces_is_filled() -> None:
    level = slo.parse_service_level(
        {
            "version": "prometheus/v1",
            "service": "s",
            "slos": [
                {
                    "name": "spaced",
                    "objective": 99,
                    "sli": {"raw": {"error_ratio_query": "x[{{ .window }}]"}},
                    "alerting": {"name": "Spaced"},
                }
            ],
        }
    )
    assert isinstance(level.slos[0].sli, slo.RawSLI)
    expr = rules.compute_rule_groups(level)[0].rules[0].expr
    assert expr == "(x[5m])"


def test_alert_windows_from_sloth_spec_compute_factors() -> None:
    windows = alert_windows.parse_alert_windows(yaml.safe_load((INTEGRATION / "windows" / "7d.yaml").read_text()))
    assert windows.period_ms == 7 * 86_400_000
    assert [w.factor for w in (windows.page_quick, windows.page_slow, windows.ticket_quick, windows.ticket_slow)] == [
        13.44,
        3.5,
        1.4000000000000001,
        0.98,
    ]


def test_builtin_windows_match_the_sre_workbook() -> None:
    w = alert_windows.GOOGLE_30D
    assert [(b.short_ms // 60_000, b.long_ms // 60_000, b.factor) for b in (w.page_quick, w.page_slow)] == [
        (5, 60, 14.4),
        (30, 360, 6.0),
    ]
    assert [(b.short_ms // 60_000, b.long_ms // 60_000, b.factor) for b in (w.ticket_quick, w.ticket_slow)] == [
        (120, 1440, 3.0),
        (360, 4320, 1.0),
    ]
    assert [b.factor for b in (alert_windows.GOOGLE_28D.page_slow, alert_windows.GOOGLE_28D.ticket_slow)] == [
        5.6000000000000005,
        0.9333333333333333,
    ]


def _problems_of(document: object) -> tuple[object, ...] | None:
    """The problems parsing reports, or None when the document parses; other exceptions escape."""
    try:
        slo.parse_service_level(document)
    except InputError as exc:
        return exc.problems
    return None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
SLO_KEYS = ["name", "objective", "sli", "alerting", "labels", "plugins", "description"]


@st.composite
def near_valid_specs(draw: st.DrawFn) -> dict[str, object]:
    """Sloth-shaped documents whose every field may hold any JSON value."""
    slos = draw(st.lists(st.dictionaries(st.sampled_from(SLO_KEYS), json_values, max_size=5), max_size=2))
    document: dict[str, object] = {"version": "prometheus/v1", "service": draw(json_values), "slos": slos}
    for key in ("labels", "slo_plugins"):
        if draw(st.booleans()):
            document[key] = draw(json_values)
    return document


@settings(max_examples=300)
@given(near_valid_specs())
def test_malformed_specs_raise_input_errors_only(document: dict[str, object]) -> None:
    problems = _problems_of(document)
    assert problems is None or len(problems) > 0


@settings(max_examples=200)
@given(
    st.sampled_from(
        [("sloth.slok.dev/v1", "PrometheusServiceLevel"), ("openslo/v1alpha", "SLO")],
    ),
    st.dictionaries(st.sampled_from(["metadata", "spec"]), json_values, max_size=2),
    st.dictionaries(st.sampled_from(["service", "slos", "objectives", "timeWindows", "sloPlugins"]), json_values),
)
def test_malformed_kubernetes_and_openslo_specs_raise_input_errors_only(
    kind: tuple[str, str], top: dict[str, object], spec: dict[str, object]
) -> None:
    document: dict[str, object] = {"apiVersion": kind[0], "kind": kind[1], "spec": spec, **top}
    problems = _problems_of(document)
    assert problems is None or len(problems) > 0
