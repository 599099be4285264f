"""Go-style TTLs: the parser, the printer and the admission policy's regular expression agree.

Test design notes: a table pins the accepted and refused spellings with the message path; the
property tests check that every duration printed by ``format_duration`` parses back to the same
whole seconds, and that the regular expression the CEL policy uses accepts exactly what the parser
accepts (so the 422 at write time and the controller never disagree).
"""

from __future__ import annotations

from datetime import timedelta

import cel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.environments import durations
from blacktop.kernel.errors import InputError

VALID = {
    "design-72h": ("72h", timedelta(hours=72)),
    "minutes": ("90m", timedelta(minutes=90)),
    "compound": ("1h30m", timedelta(minutes=90)),
    "fraction": ("1.5h", timedelta(minutes=90)),
    "seconds": ("45s", timedelta(seconds=45)),
    "milliseconds": ("1500ms", timedelta(seconds=1.5)),
    "micro-sign": ("10µs", timedelta(microseconds=10)),
    "nanoseconds-round-up-to-a-microsecond": ("1ns", timedelta(microseconds=1)),
    "every-unit": ("1h1m1s1ms1us", timedelta(hours=1, minutes=1, seconds=1, milliseconds=1, microseconds=1)),
}


@pytest.mark.parametrize(("text", "want"), VALID.values(), ids=VALID.keys())
def test_go_durations_parse(text: str, want: timedelta) -> None:
    assert durations.parse_duration(text) == want


INVALID = {
    "days-are-not-go": "3d",
    "words": "3 days",
    "bare-number": "72",
    "negative": "-1h",
    "zero": "0s",
    "empty": "",
    "space-inside": "1h 30m",
    "trailing-newline": "72h\n",
    "upper-case-unit": "72H",
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_bad_durations_are_refused_at_the_given_path(text: str) -> None:
    with pytest.raises(InputError) as caught:
        durations.parse_duration(text, path="spec.ttl")
    assert [p.path for p in caught.value.problems] == ["spec.ttl"]
    assert "72h" in caught.value.problems[0].message or "longer than zero" in caught.value.problems[0].message


@given(st.integers(min_value=1, max_value=10_000_000))
def test_formatted_durations_parse_back(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert durations.parse_duration(durations.format_duration(delta)) == delta


@given(st.text(alphabet="0123456789.hmsunµ -\n", max_size=12))
def test_cel_and_python_agree_on_the_grammar(text: str) -> None:
    """The admission policy evaluates ``PATTERN`` with CEL's RE2; the controller with Python's ``re``."""
    in_cel = cel.evaluate(f"t.matches('{durations.PATTERN}')", {"t": text})
    assert in_cel is durations.is_duration(text)
    if durations.is_duration(text) and any(c in "123456789" for c in text):
        assert durations.parse_duration(text) > timedelta(0)
