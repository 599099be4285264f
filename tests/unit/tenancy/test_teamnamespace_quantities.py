"""Kubernetes quantities: what parses to what, what is refused, and the CEL form agreeing with Python.

Test design: a table pins the grammar (suffix order, exponents, ints); hypothesis generates
quantities from the grammar and checks that the schema pattern, ``parse_quantity`` and the CEL
conversion used by the admission policy agree, since a disagreement would let the API accept what
the controller refuses (or the reverse).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import cel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel import quantities
from blacktop.policy import compiling


@dataclass(frozen=True)
class Case:
    value: object
    want: Decimal | None


CASES = {
    "milli-cpu": Case("100m", Decimal("0.1")),
    "whole-cpu-string": Case("2", Decimal(2)),
    "int-from-yaml": Case(32, Decimal(32)),
    "binary-gi": Case("64Gi", Decimal(64 * 2**30)),
    "binary-mi-before-decimal-m": Case("128Mi", Decimal(128 * 2**20)),
    "decimal-mega": Case("1M", Decimal(10**6)),
    "fraction": Case("1.5", Decimal("1.5")),
    "leading-dot": Case(".5", Decimal("0.5")),
    "exponent": Case("1e3", Decimal(1000)),
    "negative-exponent": Case("5E-3", Decimal("0.005")),
    "exa-not-exponent": Case("2E", Decimal(2 * 10**18)),
    "plus-sign": Case("+4", Decimal(4)),
    "nano": Case("250n", Decimal("0.00000025")),
    "bytes-with-unit-word": Case("64GB", None),
    "lowercase-binary": Case("64gi", None),
    "negative": Case("-1", None),
    "negative-int": Case(-5, None),
    "empty": Case("", None),
    "spaces": Case("1 Gi", None),
    "bool": Case(True, None),
    "float": Case(0.5, None),
    "fractional-exponent": Case("1e1.5", None),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_quantities_parse_exactly_or_are_refused(case: Case) -> None:
    if case.want is None:
        assert not quantities.is_quantity(case.value)
        with pytest.raises(quantities.QuantityError, match=r"quantit|negative"):
            quantities.parse_quantity(case.value)
    else:
        assert quantities.is_quantity(case.value)
        assert quantities.parse_quantity(case.value) == case.want


SUFFIXES = ["", *quantities.BINARY_SUFFIXES, *quantities.DECIMAL_SUFFIXES, "e3", "E-2", "e+1"]
numbers = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.tuples(st.integers(0, 9999), st.integers(0, 999)).map(lambda t: f"{t[0]}.{t[1]}"),
    st.integers(0, 999).map(lambda n: f".{n}"),
)
quantity_texts = st.tuples(numbers, st.sampled_from(SUFFIXES)).map("".join)


def _cel_value(text: str) -> float:
    context = cel.Context(variables={"object": {"q": text}}, functions=compiling.EXTENSION_FUNCTIONS)
    result = cel.evaluate(f"[object.q].map(q, {quantities.cel_quantity('q')})[0]", context)
    return float(result)


@given(quantity_texts)
def test_schema_pattern_python_and_cel_agree(text: str) -> None:
    assert re.match(quantities.QUANTITY_PATTERN, text)
    exact = quantities.parse_quantity(text)
    assert _cel_value(text) == pytest.approx(float(exact), rel=1e-12, abs=1e-15)


@given(st.text(max_size=8))
def test_pattern_and_parser_accept_the_same_strings(text: str) -> None:
    assert bool(re.fullmatch(quantities.QUANTITY_PATTERN, text)) == quantities.is_quantity(text)


SIGNED = {
    "negative milli": ("-250m", Decimal("-0.250")),
    "explicit plus": ("+1Ki", Decimal(1024)),
    "negative exponent form": ("-1e3", Decimal("-1000")),
    "negative integer": (-3, Decimal(-3)),
}


@pytest.mark.parametrize(("value", "expected"), SIGNED.values(), ids=SIGNED.keys())
def test_a_sign_is_read_only_when_asked_for(value: object, expected: Decimal) -> None:
    assert quantities.parse_quantity(value, signed=True) == expected
    if expected < 0:
        with pytest.raises(quantities.QuantityError):
            quantities.parse_quantity(value)
        assert not quantities.is_quantity(value)
