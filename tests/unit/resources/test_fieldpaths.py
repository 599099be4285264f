"""Field path syntax, reads, writes, wildcards and merges behave like crossplane-runtime's fieldpath.

Test design notes: parse cases come from the rules in spec sheet 1.2 (brackets, quote stripping,
every listed syntax error). Reads distinguish *not found* from hard errors because patch policies
depend on it. The property tests check that writing a value then reading it back gives the value
(after the JSON round-trip), for generated paths over fresh and pre-populated objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.errors import InputError, NotFoundError
from blacktop.resources.composition import fieldpaths
from blacktop.resources.composition.errors import FieldNotFoundError, FieldPathError, PatchError

PARSE_OK = {
    "dotted": ("spec.forProvider.region", ["spec", "forProvider", "region"]),
    "bracket-key": ("spec.forProvider.tags[foo]", ["spec", "forProvider", "tags", "foo"]),
    "index": ("a.b[0].c", ["a", "b", 0, "c"]),
    "key-with-dots-and-slash": (
        "metadata.labels[crossplane.io/claim-name]",
        ["metadata", "labels", "crossplane.io/claim-name"],
    ),
    "single-quoted-key": (
        "metadata.annotations['crossplane.io/external-name']",
        ["metadata", "annotations", "crossplane.io/external-name"],
    ),
    "double-quoted-key": ('metadata.annotations["x"]', ["metadata", "annotations", "x"]),
    "dots-literal-in-brackets": ("data[.config.yml]", ["data", ".config.yml"]),
    "index-alone": ("[42]", [42]),
    "nested-indexes": ("spec.items[0][8]", ["spec", "items", 0, 8]),
    "wildcard": ("spec.containers[*].args[*]", ["spec", "containers", "*", "args", "*"]),
    "non-numeric-bracket-is-a-key": ("a[-1]", ["a", "-1"]),
    "too-big-for-uint32-is-a-key": ("a[4294967296]", ["a", "4294967296"]),
}

PARSE_ERRORS = {
    "leading-dot": (".a", "starts with a dot"),
    "trailing-dot": ("a.", "ends with a dot"),
    "double-dot": ("a..b", "'..'"),
    "empty-brackets": ("a[]", "empty brackets"),
    "dot-before-bracket": ("a.[0]", "dot directly before"),
    "bracket-inside-field": ("a]b", "']' inside a field name"),
    "bracket-in-brackets": ("a[b[0]]", "'[' inside brackets"),
    "unterminated": ("a[0", "unterminated"),
    "text-after-bracket": ("a[0]b", "unexpected 'b'"),
    "empty": ("", "empty"),
}


@pytest.mark.parametrize(("path", "want"), PARSE_OK.values(), ids=PARSE_OK.keys())
def test_valid_paths_parse_into_fields_and_indexes(path: str, want: list[Any]) -> None:
    assert fieldpaths.parse_path(path) == want


@pytest.mark.parametrize(("path", "fragment"), PARSE_ERRORS.values(), ids=PARSE_ERRORS.keys())
def test_invalid_paths_are_refused_with_the_reason(path: str, fragment: str) -> None:
    with pytest.raises(FieldPathError, match=fragment.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        fieldpaths.parse_path(path)


def test_field_path_errors_are_input_errors_and_not_found_is_not_found() -> None:
    assert issubclass(FieldPathError, InputError)
    assert issubclass(FieldNotFoundError, NotFoundError)


FORMAT = {
    "plain": (["spec", "a"], "spec.a"),
    "dotted-key": (["metadata", "labels", "crossplane.io/x"], "metadata.labels[crossplane.io/x]"),
    "index": (["a", 0, "b"], "a[0].b"),
    "wildcard": (["a", "*"], "a[*]"),
    "leading-index": ([3, "a"], "[3].a"),
}


@pytest.mark.parametrize(("segments", "want"), FORMAT.values(), ids=FORMAT.keys())
def test_segments_print_back_as_paths(segments: list[Any], want: str) -> None:
    assert fieldpaths.format_path(segments) == want


OBJ = {"spec": {"a": {"b": [1, {"c": "x"}]}, "n": None, "s": "str"}, "metadata": {"labels": {"k.io/x": "v"}}}

GET_OK = {
    "nested": ("spec.a.b[1].c", "x"),
    "index": ("spec.a.b[0]", 1),
    "dotted-key": ("metadata.labels[k.io/x]", "v"),
    "null-value-exists": ("spec.n", None),
    "whole-object": ("spec.a", {"b": [1, {"c": "x"}]}),
}
GET_NOT_FOUND = {
    "missing-key": "spec.missing",
    "missing-deep": "spec.missing.deeper",
    "index-out-of-range": "spec.a.b[5]",
    "null-parent": "spec.n.x",
}
GET_HARD_ERROR = {"field-of-string": "spec.s.x", "index-of-object": "spec.a[0]", "field-of-array": "spec.a.b.c"}


@pytest.mark.parametrize(("path", "want"), GET_OK.values(), ids=GET_OK.keys())
def test_get_reads_values(path: str, want: Any) -> None:
    assert fieldpaths.get_value(OBJ, path) == want


@pytest.mark.parametrize("path", GET_NOT_FOUND.values(), ids=GET_NOT_FOUND.keys())
def test_get_reports_absent_fields_as_not_found(path: str) -> None:
    with pytest.raises(FieldNotFoundError):
        fieldpaths.get_value(OBJ, path)


@pytest.mark.parametrize("path", GET_HARD_ERROR.values(), ids=GET_HARD_ERROR.keys())
def test_get_walking_into_the_wrong_type_is_a_hard_error(path: str) -> None:
    with pytest.raises(FieldPathError) as caught:
        fieldpaths.get_value(OBJ, path)
    assert not isinstance(caught.value, FieldNotFoundError)


@dataclass(frozen=True)
class SetCase:
    start: dict[str, Any]
    path: str
    value: Any
    want: dict[str, Any]


SET_CASES = {
    "creates-maps": SetCase({}, "spec.forProvider.region", "eu", {"spec": {"forProvider": {"region": "eu"}}}),
    "creates-lists-grown-with-nulls": SetCase({}, "a.b[2].c", 1, {"a": {"b": [None, None, {"c": 1}]}}),
    "overwrites": SetCase({"a": {"b": 1}}, "a.b", 2, {"a": {"b": 2}}),
    "keeps-siblings": SetCase({"a": {"x": 1}}, "a.b", 2, {"a": {"x": 1, "b": 2}}),
    "dotted-label": SetCase(
        {},
        "metadata.labels[crossplane.io/claim-name]",
        "db",
        {"metadata": {"labels": {"crossplane.io/claim-name": "db"}}},
    ),
    "integral-float-becomes-int": SetCase({}, "a", 5.0, {"a": 5}),
    "fraction-stays-float": SetCase({}, "a", 2.5, {"a": 2.5}),
    "into-existing-list": SetCase({"a": [1, 2]}, "a[1]", 9, {"a": [1, 9]}),
}


@pytest.mark.parametrize("case", SET_CASES.values(), ids=SET_CASES.keys())
def test_set_creates_intermediate_objects_and_lists(case: SetCase) -> None:
    obj = case.start
    fieldpaths.set_value(obj, case.path, case.value)
    assert obj == case.want


def test_set_through_a_scalar_is_refused() -> None:
    with pytest.raises(FieldPathError, match="not an object"):
        fieldpaths.set_value({"a": "scalar"}, "a.b", 1)


def test_set_stores_a_copy_of_the_value() -> None:
    value = {"k": [1]}
    obj: dict[str, Any] = {}
    fieldpaths.set_value(obj, "a", value)
    value["k"].append(2)
    assert obj == {"a": {"k": [1]}}


WILDCARDS = {
    "array": (
        {"spec": {"containers": [{"args": ["a", "b"]}, {"args": ["c"]}]}},
        "spec.containers[*].args[*]",
        ["spec.containers[0].args[0]", "spec.containers[0].args[1]", "spec.containers[1].args[0]"],
    ),
    "object-keys": ({"m": {"x": 1, "y": 2}}, "m[*]", ["m.x", "m.y"]),
    "missing-parent-expands-to-nothing": ({}, "spec.items[*].name", []),
    "no-wildcard-is-itself": ({}, "spec.a", ["spec.a"]),
}


@pytest.mark.parametrize(("obj", "path", "want"), WILDCARDS.values(), ids=WILDCARDS.keys())
def test_wildcards_expand_against_the_target(obj: dict[str, Any], path: str, want: list[str]) -> None:
    assert [fieldpaths.format_path(p) for p in fieldpaths.expand_wildcards(obj, path)] == want


KEEP = fieldpaths.MergePolicy(keep_existing=True, append_slices=False)
KEEP_APPEND = fieldpaths.MergePolicy(keep_existing=True, append_slices=True)
FORCE = fieldpaths.MergePolicy(keep_existing=False, append_slices=False)
FORCE_APPEND = fieldpaths.MergePolicy(keep_existing=False, append_slices=True)

MERGES = {
    "merge-objects-existing-keys-win": (
        KEEP,
        {"a": 1, "n": {"x": 1}},
        {"a": 2, "b": 3, "n": {"x": 2, "y": 2}},
        {"a": 1, "b": 3, "n": {"x": 1, "y": 2}},
    ),
    "merge-objects-empty-existing-is-filled": (KEEP, {"a": ""}, {"a": "x"}, {"a": "x"}),
    "merge-objects-keeps-arrays": (KEEP, {"l": [1]}, {"l": [2]}, {"l": [1]}),
    "merge-append-arrays-dedups": (KEEP_APPEND, {"l": [1, 2]}, {"l": [2, 3]}, {"l": [1, 2, 3]}),
    "force-merge-incoming-wins": (
        FORCE,
        {"a": 1, "n": {"x": 1, "z": 0}},
        {"a": 2, "n": {"x": 2}},
        {"a": 2, "n": {"x": 2, "z": 0}},
    ),
    "force-merge-replaces-arrays": (FORCE, {"l": [1]}, {"l": [2]}, {"l": [2]}),
    "force-append-arrays": (FORCE_APPEND, {"l": [1], "a": 1}, {"l": [1, 2], "a": 2}, {"l": [1, 2], "a": 2}),
    "top-level-arrays-append": (FORCE_APPEND, [1], [1, 2], [1, 2]),
    "absent-destination-is-a-plain-set": (KEEP, None, {"a": 1}, {"a": 1}),
}


@pytest.mark.parametrize(("policy", "dst", "src", "want"), MERGES.values(), ids=MERGES.keys())
def test_merges_follow_mergo_as_crossplane_configures_it(
    policy: fieldpaths.MergePolicy, dst: Any, src: Any, want: Any
) -> None:
    assert fieldpaths.merge_values(dst, src, policy) == want


def test_merging_an_object_with_a_scalar_is_refused() -> None:
    with pytest.raises(PatchError, match="cannot merge"):
        fieldpaths.merge_values({"a": 1}, "x", FORCE)


def test_merge_value_merges_at_a_path() -> None:
    obj: dict[str, Any] = {"spec": {"tags": {"team": "a"}}}
    fieldpaths.merge_value(obj, "spec.tags", {"team": "b", "env": "prod"}, KEEP)
    assert obj == {"spec": {"tags": {"team": "a", "env": "prod"}}}


# -- properties -----------------------------------------------------------------------------------

_names = st.text(alphabet=st.characters(codec="ascii", exclude_characters="[]"), min_size=1, max_size=8).filter(
    lambda s: s.strip("'\"") == s and s != "*"
)
_segments = st.lists(st.one_of(_names, st.integers(min_value=0, max_value=4)), min_size=1, max_size=5)
_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.text(max_size=5),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8,
)


@given(segments=_segments, value=_json)
def test_set_then_get_round_trips(segments: list[Any], value: Any) -> None:
    path = fieldpaths.format_path(segments)
    assert fieldpaths.parse_path(path) == segments
    obj: dict[str, Any] = {}
    if isinstance(segments[0], int):
        return  # a top-level object cannot be indexed; covered by the parse round-trip above
    fieldpaths.set_value(obj, path, value)
    assert fieldpaths.get_value(obj, path) == fieldpaths.json_roundtrip(value)


@given(segments=_segments, first=_json, second=_json)
def test_second_write_wins_and_first_value_is_gone(segments: list[Any], first: Any, second: Any) -> None:
    if isinstance(segments[0], int):
        return
    obj: dict[str, Any] = {}
    fieldpaths.set_value(obj, segments, first)
    fieldpaths.set_value(obj, segments, second)
    assert fieldpaths.get_value(obj, segments) == fieldpaths.json_roundtrip(second)


@given(segments=st.lists(_names, min_size=1, max_size=5))
def test_formatting_then_parsing_field_names_is_identity(segments: list[str]) -> None:
    assert fieldpaths.parse_path(fieldpaths.format_path(segments)) == segments
