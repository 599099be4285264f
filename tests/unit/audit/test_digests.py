"""Redaction and digests: secret fields never reach an audit digest, and equal objects digest equally."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop import audit

R = audit.REDACTED


@dataclass(frozen=True)
class Case:
    obj: dict[str, Any]
    paths: tuple[str, ...]
    want: dict[str, Any]


CASES = {
    "scalar": Case(
        {"spec": {"password": "hunter2", "user": "a"}}, ("spec.password",), {"spec": {"password": R, "user": "a"}}
    ),
    "subtree-keeps-shape": Case(
        {"spec": {"creds": {"user": "a", "keys": ["k1", "k2"]}}},
        ("spec.creds",),
        {"spec": {"creds": {"user": R, "keys": [R, R]}}},
    ),
    "list-wildcard": Case(
        {"spec": {"users": [{"name": "a", "password": "p"}, {"name": "b"}]}},
        ("spec.users[*].password",),
        {"spec": {"users": [{"name": "a", "password": R}, {"name": "b"}]}},
    ),
    "list-index": Case({"spec": {"keys": ["a", "b"]}}, ("spec.keys[1]",), {"spec": {"keys": ["a", R]}}),
    "map-wildcard": Case(
        {"spec": {"conns": {"main": {"password": "x", "host": "h"}}}},
        ("spec.conns.*.password",),
        {"spec": {"conns": {"main": {"password": R, "host": "h"}}}},
    ),
    "missing-path-is-ignored": Case({"spec": {}}, ("spec.password", "spec.a[*].b"), {"spec": {}}),
    "secret-kind-data-always": Case(
        {"kind": "Secret", "data": {"token": "dG9r"}, "stringData": {"pw": "x"}, "type": "Opaque"},
        (),
        {"kind": "Secret", "data": {"token": R}, "stringData": {"pw": R}, "type": "Opaque"},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_redact(case: Case) -> None:
    before = json.dumps(case.obj, sort_keys=True)
    assert audit.redact(case.obj, case.paths) == case.want
    assert json.dumps(case.obj, sort_keys=True) == before  # the input is not mutated


@pytest.mark.parametrize(
    "path", ["", "spec..x", "spec[x]", "spec.[*]x"], ids=["empty", "double-dot", "bad-index", "junk"]
)
def test_malformed_secret_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="malformed"):
        audit.redact({"spec": {}}, [path])


def test_digest_hides_secret_changes_but_not_other_changes() -> None:
    base = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "v1"}}
    assert audit.digest(base) == audit.digest({**base, "data": {"k": "v2"}})
    assert audit.digest(base) != audit.digest({**base, "data": {"k2": "v1"}})
    assert audit.digest(base) != audit.digest({**base, "metadata": {"name": "t"}})
    assert len(audit.digest(base)) == 64


def test_canonical_json_is_compact_sorted_utf8() -> None:
    assert audit.canonical_json({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'.encode()
    with pytest.raises(TypeError, match="JSON values only"):
        audit.canonical_json({"a": object()})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=4), json_values, max_size=4))
def test_digest_ignores_key_order_and_json_round_trips(obj: dict[str, Any]) -> None:
    reordered = dict(reversed(list(obj.items())))
    assert audit.digest(obj) == audit.digest(reordered)
    assert audit.digest(json.loads(json.dumps(obj))) == audit.digest(obj)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


@given(st.dictionaries(st.text(min_size=1, max_size=4), json_values, max_size=4))
def test_redacting_a_subtree_masks_every_leaf_and_keeps_keys(obj: dict[str, Any]) -> None:
    masked = audit.redact({"spec": obj, "kept": 1}, ["spec"])
    assert masked["kept"] == 1
    assert masked["spec"].keys() == obj.keys()
    assert all(leaf == R for leaf in _leaves(masked["spec"]))
