"""Every transform (map, match, math, string, convert) with Crossplane's semantics, Go's where they differ.

Test design notes: each table row is one rule from spec sheet 1.6 (success and failure). Error rows
check the message fragment an author would search for. Property tests cover map (a present key
always yields its value; an absent one always fails) and convert round trips
(int64 → string → int64, float64 → string → float64, bool → string → bool).
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.resources.composition import transforms
from blacktop.resources.composition.errors import TransformError


@dataclass(frozen=True)
class Case:
    transform: dict[str, Any]
    value: Any
    want: Any = None
    error: str | None = None
    native: bool = False


def string(kind: str, **settings: Any) -> dict[str, Any]:
    return {"type": "string", "string": {"type": kind, **settings}}


def convert(to_type: str, fmt: str | None = None) -> dict[str, Any]:
    return {"type": "convert", "convert": {"toType": to_type, **({"format": fmt} if fmt else {})}}


SIZES: dict[str, Any] = {"type": "map", "map": {"small": "db.t4g.medium", "large": {"class": "db.r6g.xlarge", "n": 2}}}
MATCH = {
    "type": "match",
    "match": {
        "patterns": [
            {"type": "literal", "literal": "prod", "result": {"ha": True}},
            {"type": "regexp", "regexp": "^dev-[0-9]+$", "result": 1},
        ],
        "fallbackValue": "other",
    },
}

CASES = {
    # map
    "map-string-value": Case(SIZES, "small", "db.t4g.medium"),
    "map-object-value": Case(SIZES, "large", {"class": "db.r6g.xlarge", "n": 2}),
    "map-missing-key": Case(SIZES, "medium", error="key 'medium' is not found in map"),
    "map-non-string-input": Case(SIZES, 5, error="input is required to be a string"),
    "map-empty": Case({"type": "map", "map": {}}, "x", error="at least one key-value pair"),
    # match
    "match-literal": Case(MATCH, "prod", {"ha": True}),
    "match-regexp-unanchored-in-go": Case(MATCH, "dev-12", 1),
    "match-regexp-dollar-is-end-of-text": Case(MATCH, "dev-12\n", "other"),
    "match-fallback-value": Case(MATCH, "staging", "other"),
    "match-literal-is-case-sensitive": Case(MATCH, "PROD", "other"),
    "match-literal-needs-string": Case(MATCH, 5, error="literal pattern needs a string input"),
    "match-unset-fallback-is-null": Case(
        {"type": "match", "match": {"patterns": [{"literal": "a", "result": 1}]}}, "b", None
    ),
    "match-fallback-to-input": Case(
        {"type": "match", "match": {"patterns": [{"literal": "a", "result": 1}], "fallbackTo": "Input"}}, "b", "b"
    ),
    "match-fallback-conflict-ignored-when-a-pattern-matches": Case(
        {
            "type": "match",
            "match": {"patterns": [{"literal": "a", "result": 1}], "fallbackTo": "Input", "fallbackValue": 2},
        },
        "a",
        1,
    ),
    "match-fallback-input-and-value-conflict": Case(
        {
            "type": "match",
            "match": {"patterns": [{"literal": "a", "result": 1}], "fallbackTo": "Input", "fallbackValue": 2},
        },
        "b",
        error="cannot set both a fallbackValue and fallbackTo: Input",
    ),
    "match-no-patterns": Case({"type": "match", "match": {"patterns": []}}, "a", error="at least one pattern"),
    "match-regexp-with-lookahead-is-refused": Case(
        {"type": "match", "match": {"patterns": [{"type": "regexp", "regexp": "a(?=b)", "result": 1}]}},
        "ab",
        error="look-around",
    ),
    # math
    "multiply-int": Case({"type": "math", "math": {"type": "Multiply", "multiply": 3}}, 4, 12),
    "multiply-float": Case({"type": "math", "math": {"type": "Multiply", "multiply": 2}}, 1.25, 2.5),
    "clamp-min-raises": Case({"type": "math", "math": {"type": "ClampMin", "clampMin": 10}}, 3, 10),
    "clamp-min-keeps-input-type": Case({"type": "math", "math": {"type": "ClampMin", "clampMin": 1}}, 2.7, 2.7),
    "clamp-min-truncates-for-comparison": Case({"type": "math", "math": {"type": "ClampMin", "clampMin": 3}}, 2.9, 3),
    "clamp-max-lowers": Case({"type": "math", "math": {"type": "ClampMax", "clampMax": 5}}, 9, 5),
    "clamp-max-keeps": Case({"type": "math", "math": {"type": "ClampMax", "clampMax": 5}}, 4, 4),
    "math-needs-number": Case(
        {"type": "math", "math": {"type": "Multiply", "multiply": 2}}, "2", error="required to be a number"
    ),
    "math-bool-is-not-a-number": Case(
        {"type": "math", "math": {"type": "Multiply", "multiply": 2}}, True, error="required to be a number"
    ),
    "math-type-required-in-pipeline": Case({"type": "math", "math": {"multiply": 2}}, 2, error="needs 'type'"),
    "math-type-defaults-in-native": Case({"type": "math", "math": {"multiply": 2}}, 2, 4, native=True),
    # string Format
    "format-s": Case(string("Format", fmt="%s-sql"), "abc", "abc-sql"),
    "format-s-of-number-is-go-error-text": Case(string("Format", fmt="%s"), 5, "%!s(int64=5)"),
    "format-d": Case(string("Format", fmt="size-%d"), 5, "size-5"),
    "format-v-map": Case(string("Format", fmt="%v"), {"b": 1, "a": "x"}, "map[a:x b:1]"),
    "format-v-float": Case(string("Format", fmt="%v"), 1234567.0 + 0.5, "1.2345675e+06"),
    "format-q": Case(string("Format", fmt="%q"), 'a"b', '"a\\"b"'),
    "format-type-required-in-pipeline": Case({"type": "string", "string": {"fmt": "%s"}}, "a", error="needs 'type'"),
    "format-type-defaults-in-native": Case({"type": "string", "string": {"fmt": "x-%s"}}, "a", "x-a", native=True),
    # string Convert
    "to-upper": Case(string("Convert", convert="ToUpper"), "I'm cool!", "I'M COOL!"),
    "to-lower-of-number": Case(string("Convert", convert="ToLower"), 5, "5"),
    "to-base64": Case(string("Convert", convert="ToBase64"), "hi", "aGk="),
    "from-base64": Case(string("Convert", convert="FromBase64"), "aGk=", "hi"),
    "from-base64-invalid": Case(string("Convert", convert="FromBase64"), "%%%", error="cannot decode base64"),
    "to-json-sorted-compact-html-escaped": Case(
        string("Convert", convert="ToJson"), {"b": [1, 2], "a": "<x>"}, '{"a":"\\u003cx\\u003e","b":[1,2]}'
    ),
    "to-sha256-of-string": Case(string("Convert", convert="ToSha256"), "abc", hashlib.sha256(b"abc").hexdigest()),
    "to-sha1-of-object-hashes-json": Case(
        string("Convert", convert="ToSha1"),
        {"a": 1},
        hashlib.sha1(b'{"a":1}').hexdigest(),
    ),
    "to-sha512": Case(string("Convert", convert="ToSha512"), "abc", hashlib.sha512(b"abc").hexdigest()),
    "to-adler32": Case(string("Convert", convert="ToAdler32"), "abc", str(zlib.adler32(b"abc"))),
    "unknown-conversion": Case(string("Convert", convert="ToTitle"), "a", error="conversion 'ToTitle' is invalid"),
    # trims, regexp, join, replace
    "trim-prefix": Case(string("TrimPrefix", trim="arn:aws:"), "arn:aws:s3", "s3"),
    "trim-suffix": Case(string("TrimSuffix", trim="-test"), "my-bucket-test", "my-bucket"),
    "trim-prefix-absent": Case(string("TrimPrefix", trim="x"), "abc", "abc"),
    "regexp-group": Case(
        string("Regexp", regexp={"match": "arn:aws:iam::(\\d+):.*", "group": 1}), "arn:aws:iam::42:role/x", "42"
    ),
    "regexp-whole-match": Case(string("Regexp", regexp={"match": "[0-9]+"}), "ab12cd", "12"),
    "regexp-no-match-is-error": Case(string("Regexp", regexp={"match": "z+"}), "abc", error="had no matches"),
    "regexp-group-out-of-range-is-error": Case(
        string("Regexp", regexp={"match": "(a)", "group": 2}), "a", error="has no group 2"
    ),
    "join": Case(string("Join", join={"separator": ","}), ["a", 1, True], "a,1,true"),
    "join-multichar-separator-is-a-real-join": Case(string("Join", join={"separator": ", "}), ["a", "b"], "a, b"),
    "join-empty-list": Case(string("Join", join={"separator": ","}), [], ""),
    "join-needs-list": Case(string("Join", join={"separator": ","}), "a", error="required to be an array"),
    "replace": Case(string("Replace", replace={"search": "-", "replace": "_"}), "a-b-c", "a_b_c"),
    "replace-empty-deletes": Case(string("Replace", replace={"search": "-"}), "a-b", "ab"),
    "replace-needs-search": Case(string("Replace", replace={"search": ""}), "a", error="non-empty"),
    # convert
    "string-to-int": Case(convert("int"), "42", 42),
    "string-to-int64-signed": Case(convert("int64"), "-7", -7),
    "string-to-int-rejects-spaces": Case(convert("int64"), " 4", error="invalid syntax"),
    "string-to-int-rejects-float": Case(convert("int64"), "4.5", error="invalid syntax"),
    "string-to-bool-true": Case(convert("bool"), "T", True),
    "string-to-bool-false": Case(convert("bool"), "False", False),
    "string-to-bool-invalid": Case(convert("bool"), "yes", error="ParseBool"),
    "string-to-float": Case(convert("float64"), "2.5", 2.5),
    "quantity-milli": Case(convert("float64", "quantity"), "250m", 0.25),
    "quantity-binary": Case(convert("float64", "quantity"), "1Gi", 1073741824.0),
    "quantity-decimal": Case(convert("float64", "quantity"), "1k", 1000.0),
    "quantity-invalid": Case(convert("float64", "quantity"), "abc", error="quantity"),
    "string-to-object-json": Case(convert("object", "json"), '{"a": [1]}', {"a": [1]}),
    "string-to-array-json": Case(convert("array", "json"), "[1, 2]", [1, 2]),
    "string-to-object-needs-json-format": Case(convert("object"), "{}", error="not supported with format none"),
    "quantity-to-int-unsupported": Case(convert("int64", "quantity"), "1k", error="not supported with format quantity"),
    "int-to-string": Case(convert("string"), 42, "42"),
    "int-to-bool": Case(convert("bool"), 1, True),
    "int-to-bool-not-one": Case(convert("bool"), 2, False),
    "int-to-float": Case(convert("float64"), 3, 3.0),
    "bool-to-string": Case(convert("string"), True, "true"),
    "bool-to-int": Case(convert("int64"), True, 1),
    "bool-to-float": Case(convert("float64"), False, 0.0),
    "float-to-string-no-exponent": Case(convert("string"), 1e16 + 0.0, "10000000000000000"),
    "float-to-string-shortest": Case(convert("string"), 0.1, "0.1"),
    "float-to-int-truncates": Case(convert("int64"), -2.9, -2),
    "float-to-bool": Case(convert("bool"), 1.0, True),
    "same-type-is-noop": Case(convert("string"), "x", "x"),
    "same-type-is-noop-whatever-the-format": Case(convert("string", "json"), "x", "x"),
    "int-and-int64-are-one-type": Case(convert("int"), 7, 7),
    "object-input-rejected": Case(convert("string"), {"a": 1}, error="input type object is not supported"),
    "unknown-to-type": Case(convert("date"), "x", error="toType 'date' is invalid"),
    # pipeline structure
    "unknown-transform": Case({"type": "lookup"}, "x", error="transform type 'lookup'"),
    "missing-settings": Case({"type": "map"}, "x", error="needs a 'map' object"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_transform(case: Case) -> None:
    if case.error is None:
        got = transforms.apply_transform(case.value, case.transform, native=case.native)
        assert got == case.want
        assert type(got) is type(case.want)
    else:
        with pytest.raises(TransformError, match=_escape(case.error)):
            transforms.apply_transform(case.value, case.transform, native=case.native)


def _escape(text: str) -> str:
    return re.escape(text)


def test_transforms_run_as_a_pipe_and_errors_name_the_index() -> None:
    pipe = [SIZES, string("Convert", convert="ToUpper"), {"type": "math", "math": {"type": "Multiply", "multiply": 2}}]
    assert transforms.apply_transforms("small", pipe[:2]) == "DB.T4G.MEDIUM"
    with pytest.raises(TransformError, match=r"^transform 2: input is required to be a number"):
        transforms.apply_transforms("small", pipe)


def test_map_result_is_a_copy() -> None:
    got = transforms.apply_transform("large", SIZES)
    got["n"] = 99
    assert SIZES["map"]["large"]["n"] == 2


STATIC_PROBLEMS = {
    "bad-regexp": (
        {"type": "match", "match": {"patterns": [{"type": "regexp", "regexp": "(", "result": 1}]}},
        "is invalid",
    ),
    "string-type-missing": ({"type": "string", "string": {"fmt": "%s"}}, "string transform type None"),
    "math-operand-missing": ({"type": "math", "math": {"type": "ClampMin"}}, "needs an integer 'clampMin'"),
    "convert-bad-format": ({"type": "convert", "convert": {"toType": "string", "format": "yaml"}}, "format 'yaml'"),
}


@pytest.mark.parametrize(("transform", "fragment"), STATIC_PROBLEMS.values(), ids=STATIC_PROBLEMS.keys())
def test_static_validation_reports_configuration_problems(transform: dict[str, Any], fragment: str) -> None:
    problems = transforms.transform_problems(transform)
    assert any(fragment in p for p in problems), problems


def test_valid_transforms_have_no_static_problems() -> None:
    for case in CASES.values():
        if case.error is None:
            assert transforms.transform_problems(case.transform, native=case.native) == []


# -- properties -----------------------------------------------------------------------------------

_keys = st.text(min_size=1, max_size=6)
_values = st.one_of(st.text(max_size=6), st.integers(), st.booleans(), st.none())


@given(mapping=st.dictionaries(_keys, _values, min_size=1, max_size=6), data=st.data())
def test_map_returns_the_value_of_a_present_key(mapping: dict[str, Any], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(mapping)))
    assert transforms.apply_transform(key, {"type": "map", "map": mapping}) == mapping[key]


@given(mapping=st.dictionaries(_keys, _values, min_size=1, max_size=6), key=_keys)
def test_map_refuses_an_absent_key(mapping: dict[str, Any], key: str) -> None:
    if key in mapping:
        return
    with pytest.raises(TransformError, match="not found in map"):
        transforms.apply_transform(key, {"type": "map", "map": mapping})


@given(number=st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_int_to_string_and_back_is_identity(number: int) -> None:
    text = transforms.convert_value(number, "string")
    assert transforms.convert_value(text, "int64") == number


@given(number=st.floats(allow_nan=False, allow_infinity=False))
def test_float_to_string_and_back_is_identity(number: float) -> None:
    text = transforms.convert_value(number, "string")
    assert "e" not in text
    assert transforms.convert_value(text, "float64") == number


@given(flag=st.booleans())
def test_bool_to_string_and_back_is_identity(flag: bool) -> None:
    assert transforms.convert_value(transforms.convert_value(flag, "string"), "bool") is flag


@given(text=st.text(max_size=20))
def test_base64_round_trips(text: str) -> None:
    encoded = transforms.apply_transform(text, string("Convert", convert="ToBase64"))
    assert encoded == base64.b64encode(text.encode()).decode()
    assert transforms.apply_transform(encoded, string("Convert", convert="FromBase64")) == text
