"""Backstage's query language as pure values: filter parsing, predicates, search rows, fields, order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.catalog import querying
from blacktop.catalog.querying import Condition, EntityFilter
from blacktop.kernel.errors import InputError


@dataclass(frozen=True)
class FilterCase:
    params: list[str]
    want: tuple[tuple[Condition, ...], ...]


FILTERS = {
    "one-condition": FilterCase(["kind=component"], ((Condition("kind", ("component",)),),)),
    "and-within-one": FilterCase(
        ["kind=component,spec.type=service"],
        ((Condition("kind", ("component",)), Condition("spec.type", ("service",))),),
    ),
    "or-across-params": FilterCase(
        ["kind=api", "kind=domain"], ((Condition("kind", ("api",)),), (Condition("kind", ("domain",)),))
    ),
    "repeated-key-any-of": FilterCase(["kind=component,kind=api"], ((Condition("kind", ("component", "api")),),)),
    "bare-key-exists": FilterCase(["spec.owner"], ((Condition("spec.owner", None),),)),
    "empty-value": FilterCase(["spec.owner="], ((Condition("spec.owner", ("",)),),)),
    "lower-cased-and-trimmed": FilterCase([" Kind = Component "], ((Condition("kind", ("component",)),),)),
    "dots-in-annotation-keys": FilterCase(
        ["metadata.annotations.backstage.io/orphan=true"],
        ((Condition("metadata.annotations.backstage.io/orphan", ("true",)),),),
    ),
    "empty-params-match-everything": FilterCase(["", ","], ()),
}


@pytest.mark.parametrize("case", FILTERS.values(), ids=FILTERS.keys())
def test_filter_parameters_parse_into_or_of_ands(case: FilterCase) -> None:
    assert querying.parse_filters(case.params).alternatives == case.want


def test_condition_without_key_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        querying.parse_filters(["=x"])
    assert caught.value.problems[0].path == "filter"


PREDICATES = {
    "field-equality": ({"kind": "Component"}, ((Condition("kind", ("component",)),),)),
    "in": ({"spec.type": {"$in": ["a", "B"]}}, ((Condition("spec.type", ("a", "b")),),)),
    "exists-false": ({"spec.owner": {"$exists": False}}, ((Condition("spec.owner", None, negate=True),),)),
    "all": ({"$all": [{"kind": "api"}, {"spec.type": "openapi"}]},
            ((Condition("kind", ("api",)), Condition("spec.type", ("openapi",))),)),
    "any": ({"$any": [{"kind": "api"}, {"kind": "domain"}]},
            ((Condition("kind", ("api",)),), (Condition("kind", ("domain",)),))),
    "not": ({"$not": {"kind": "api"}}, ((Condition("kind", ("api",), negate=True),),)),
    "relations-contains": ({"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/a"}}},
                           ((Condition("relations.ownedby", ("group:default/a",)),),)),
}  # fmt: skip


@pytest.mark.parametrize(("query", "want"), PREDICATES.values(), ids=PREDICATES.keys())
def test_predicates_translate_to_the_same_filter_shape(query: object, want: object) -> None:
    assert querying.parse_predicate(query).alternatives == want


def test_any_of_nothing_matches_nothing_and_all_of_nothing_everything() -> None:
    assert querying.parse_predicate({"$any": []}).nothing
    assert querying.parse_predicate({"$all": []}).is_everything


def test_search_rows_follow_backstage_flattening() -> None:
    entity = {
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "Pay", "tags": ["Java"], "annotations": {"backstage.io/x": "Y"}, "etag": "e",
                     "description": "d" * 300},
        "spec": {"owner": "team-a", "deep": {"flag": True}},
        "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}],
        "status": {"items": []},
    }  # fmt: skip
    rows = {(r.key, r.value): r.original for r in querying.flatten_entity(entity)}
    assert rows[("kind", "component")] == "Component"
    assert rows[("metadata.name", "pay")] == "Pay"
    assert rows[("metadata.namespace", "default")] == "default"
    assert ("metadata.tags", "java") in rows and ("metadata.tags.java", "true") in rows
    assert ("metadata.annotations.backstage.io/x", "y") in rows
    assert ("spec.deep.flag", "true") in rows
    assert ("metadata.description", None) in rows, "values over 200 chars keep the key, not the value"
    assert not any(k.startswith(("relations", "status", "metadata.etag")) for k, _ in rows)


@given(st.lists(st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,2}", fullmatch=True), min_size=1, max_size=5),
       st.lists(st.from_regex(r"[a-zA-Z0-9]{0,6}", fullmatch=True), min_size=1, max_size=5))  # fmt: skip
def test_rendered_filters_parse_back_to_their_conditions(keys: list[str], values: list[str]) -> None:
    pairs = list(zip(keys, values, strict=False))
    parsed = querying.parse_filters([",".join(f"{k}={v}" for k, v in pairs)])
    [alternative] = parsed.alternatives
    expected: dict[str, list[str]] = {}
    for key, value in pairs:
        expected.setdefault(key, []).append(value.lower())
    assert {c.key: list(c.values or ()) for c in alternative} == expected


def test_fields_select_subtrees_and_keys_with_dots() -> None:
    entity = {"kind": "API", "metadata": {"name": "a", "annotations": {"backstage.io/x": "1", "y": "2"}}, "spec": {}}
    assert querying.select_fields(entity, ["kind", "metadata.annotations.backstage.io/x"]) == {
        "kind": "API", "metadata": {"annotations": {"backstage.io/x": "1"}},
    }  # fmt: skip
    with pytest.raises(InputError):
        querying.parse_fields(["metadata.tags[0]"])


@pytest.mark.parametrize(
    ("params", "style", "want"),
    [
        (["asc:metadata.name"], "prefix", [querying.Order("metadata.name")]),
        (["desc:Spec.Type"], "prefix", [querying.Order("spec.type", descending=True)]),
        (["metadata.name,desc"], "suffix", [querying.Order("metadata.name", descending=True)]),
        (["metadata.name"], "suffix", [querying.Order("metadata.name")]),
    ],
    ids=["prefix-asc", "prefix-desc-lowercased", "suffix-desc", "suffix-default-asc"],
)
def test_order_parameters(params: list[str], style: str, want: list[querying.Order]) -> None:
    assert querying.parse_order(params, style=style) == want


def test_full_text_indexes_name_parts_for_prefix_search() -> None:
    text = querying.fulltext_of({"kind": "Component", "metadata": {"name": "payment-service"}, "spec": {"owner": "t"}})
    assert text.split() == ["component", "payment", "service", "t"]
    assert querying.search_terms("Pay-Serv!") == ["pay", "serv"]


def test_everything_filter_combines_neutrally() -> None:
    some = querying.parse_filters(["kind=api"])
    assert EntityFilter().and_(some) == some and some.and_(EntityFilter()) == some
