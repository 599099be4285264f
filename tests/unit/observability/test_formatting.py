"""Go-compatible float and Prometheus duration printing, checked by table and by property."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.observability import formatting


@pytest.mark.parametrize(
    ("value", "want"),
    [
        pytest.param(99.9 / 100, "0.9990000000000001", id="objective-ratio"),
        pytest.param((100 - 99.9) / 100, "0.0009999999999999432", id="error-budget"),
        pytest.param(14.4, "14.4", id="page-factor"),
        pytest.param(6.0, "6", id="whole-number"),
        pytest.param(123456.0, "123456", id="below-1e6-plain"),
        pytest.param(1234567.0, "1.234567e+06", id="from-1e6-exponent"),
        pytest.param(0.0001, "0.0001", id="1e-4-plain"),
        pytest.param(1e-05, "1e-05", id="below-1e-4-exponent"),
        pytest.param(5.6000000000000005, "5.6000000000000005", id="28d-factor"),
        pytest.param(-2.5, "-2.5", id="negative"),
        pytest.param(0.0, "0", id="zero"),
    ],
)
def test_go_float_spelling(value: float, want: str) -> None:
    assert formatting.format_go_float(value) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [
        pytest.param(99.9, "99.9", id="decimal"),
        pytest.param(95.0, "95", id="whole"),
        pytest.param(1e-7, "0.0000001", id="tiny"),
    ],
)
def test_fixed_spelling_never_uses_an_exponent(value: float, want: str) -> None:
    assert formatting.format_go_float_fixed(value) == want


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_go_float_round_trips_and_uses_exponent_only_outside_1e_4_to_1e6(value: float) -> None:
    text = formatting.format_go_float(value)
    assert float(text) == value
    if value != 0:
        exponent = math.floor(math.log10(abs(value)))
        # log10 can land one off near powers of ten; the printed form decides, so check loosely there.
        if -4 < exponent < 5:
            assert "e" not in text
        if exponent < -5 or exponent > 6:
            assert "e" in text


@pytest.mark.parametrize(
    ("text", "ms", "printed"),
    [
        pytest.param("5m", 300_000, "5m", id="minutes"),
        pytest.param("90m", 5_400_000, "1h30m", id="compound"),
        pytest.param("36h", 129_600_000, "1d12h", id="days-hours"),
        pytest.param("7d", 604_800_000, "1w", id="exact-week"),
        pytest.param("28d", 2_419_200_000, "4w", id="four-weeks"),
        pytest.param("30d", 2_592_000_000, "30d", id="not-whole-weeks"),
        pytest.param("1500ms", 1_500, "1s500ms", id="milliseconds"),
    ],
)
def test_durations_parse_and_print_like_prometheus(text: str, ms: int, printed: str) -> None:
    assert formatting.parse_duration_ms(text) == ms
    assert formatting.format_duration_ms(ms) == printed


@pytest.mark.parametrize("text", ["", "0", "5", "5 m", "1h5", "m", "-5m", "1.5h"])
def test_invalid_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        formatting.parse_duration_ms(text)


@given(st.integers(min_value=1, max_value=10 * 365 * 86_400_000))
def test_duration_printing_round_trips(ms: int) -> None:
    printed = formatting.format_duration_ms(ms)
    assert formatting.parse_duration_ms(printed) == ms
