"""Go's fmt.Sprintf, float printing and RE2 behave as Crossplane's Go code does.

Test design notes: each row is a Go behaviour a Composition author can observe through a string
Format transform or a Combine patch; expected strings are what Go prints (documented in the spec
sheet, sections 1.6 and 4.3, and in the Go fmt package documentation).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.resources.composition import golang

SPRINTF = {
    "s": ("%s-sql", ("abc",), "abc-sql"),
    "s-of-int": ("%s", (5,), "%!s(int64=5)"),
    "s-of-float": ("%s", (2.5,), "%!s(float64=2.5)"),
    "s-of-bool": ("%s", (True,), "%!s(bool=true)"),
    "s-of-nil": ("%s", (None,), "%!s(<nil>)"),
    "d-of-string": ("%d", ("x",), "%!d(string=x)"),
    "d": ("%d", (42,), "42"),
    "v-int": ("%v", (42,), "42"),
    "v-nil": ("%v", (None,), "<nil>"),
    "v-bool": ("%v", (False,), "false"),
    "v-map-sorted": ("%v", ({"b": 2, "a": 1},), "map[a:1 b:2]"),
    "v-list": ("%v", (["a", 1, [2]],), "[a 1 [2]]"),
    "s-of-list-applies-per-element": ("%s", (["a", 1],), "[a %!s(int64=1)]"),
    "q": ("%q", ("hi\n",), '"hi\\n"'),
    "x-string": ("%x", ("hi",), "6869"),
    "x-int": ("%x", (255,), "ff"),
    "f": ("%f", (2.5,), "2.500000"),
    "precision-f": ("%.2f", (3.14159,), "3.14"),
    "width-zero-pad": ("%05d", (42,), "00042"),
    "width-left": ("%-4s|", ("a",), "a   |"),
    "percent": ("100%%", (), "100%"),
    "several": ("%s-%s-%d", ("a", "b", 3), "a-b-3"),
    "missing": ("%s-%s", ("a",), "a-%!s(MISSING)"),
    "extra": ("%s", ("a", "b"), "a%!(EXTRA string=b)"),
    "no-verb": ("abc%", (), "abc%!(NOVERB)"),
    "plus": ("%+d", (5,), "+5"),
}


@pytest.mark.parametrize(("fmt", "args", "want"), SPRINTF.values(), ids=SPRINTF.keys())
def test_sprintf_matches_go(fmt: str, args: tuple[Any, ...], want: str) -> None:
    assert golang.sprintf(fmt, *args) == want


FLOATS = {
    "exponent-at-1e6": (1234567.0, "1.234567e+06"),
    "plain-below-1e6": (123456.0, "123456"),
    "small-exponent": (1e-05, "1e-05"),
    "plain-at-1e-4": (0.0001, "0.0001"),
    "fraction": (2.5, "2.5"),
    "integral": (100.0, "100"),
    "negative": (-3.25, "-3.25"),
    "large": (1e21, "1e+21"),
    "zero": (0.0, "0"),
}


@pytest.mark.parametrize(("value", "want"), FLOATS.values(), ids=FLOATS.keys())
def test_float_v_uses_go_shortest_rule(value: float, want: str) -> None:
    assert golang.format_float_shortest(value) == want


RE2 = {
    "dollar-is-end-of-text": ("^a$", "a\n", False),
    "dollar-matches-end": ("^a$", "a", True),
    "multiline-dollar-stays": ("(?m)^a$", "a\nb", True),
    "unanchored": ("b", "abc", True),
    "lowercase-z-is-end": ("a\\z", "a", True),
}


@pytest.mark.parametrize(("pattern", "text", "want"), RE2.values(), ids=RE2.keys())
def test_re2_patterns_match_like_go(pattern: str, text: str, want: bool) -> None:
    assert (golang.compile_re2(pattern).search(text) is not None) is want


REFUSED = {
    "lookahead": ("a(?=b)", "look-around"),
    "lookbehind": ("(?<!a)b", "look-around"),
    "backreference": ("(a)\\1", "backreferences"),
    "atomic": ("(?>a)", "atomic"),
    "unicode-class": ("\\p{Greek}", "Unicode"),
    "syntax": ("(", "invalid"),
}


@pytest.mark.parametrize(("pattern", "fragment"), REFUSED.values(), ids=REFUSED.keys())
def test_patterns_re2_does_not_accept_are_refused(pattern: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        golang.compile_re2(pattern)


def test_go_json_escapes_html_and_sorts_keys() -> None:
    assert golang.go_json({"b": "&", "a": [1, 2.5, None, True]}) == '{"a":[1,2.5,null,true],"b":"\\u0026"}'


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=6,
)


@given(value=_json, verb=st.sampled_from(["v", "s", "d", "q", "x", "f", "t"]))
def test_sprintf_formats_any_json_value_without_raising(value: Any, verb: str) -> None:
    assert isinstance(golang.sprintf(f"%{verb}", value), str)


@given(text=st.text())
def test_percent_s_of_a_string_is_the_string(text: str) -> None:
    assert golang.sprintf("%s", text) == text
    assert golang.sprintf("%v", text) == text


@given(number=st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_percent_d_of_an_int_is_its_decimal(number: int) -> None:
    assert golang.sprintf("%d", number) == str(number)


@given(number=st.floats(allow_nan=False, allow_infinity=False))
def test_float_v_round_trips(number: float) -> None:
    assert float(golang.format_float_shortest(number)) == number
