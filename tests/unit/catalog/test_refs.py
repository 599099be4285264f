"""Entity reference parsing and formatting, checked against the rules of Backstage's ``parseEntityRef``.

Test design notes: the table rows restate the spec sheet section 4 one rule per row; the property
tests cover the round trip (format then parse) and case-insensitive identity for generated parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.catalog import EntityRef, InvalidEntityRef, format_ref, parse_ref, parse_spec_ref, split_ref


@dataclass(frozen=True)
class Case:
    text: str
    default_kind: str | None = None
    default_namespace: str | None = None
    want: tuple[str, str, str] | None = None  # None: must raise


CASES = {
    "full-ref": Case("component:ns/name", want=("component", "ns", "name")),
    "kind-and-name-defaults-namespace": Case("group:team-a", want=("group", "default", "team-a")),
    "bare-name-takes-default-kind": Case("team-a", default_kind="Group", want=("Group", "default", "team-a")),
    "bare-name-without-default-kind-fails": Case("team-a"),
    "namespace-default-from-caller": Case("api:x", default_namespace="ops", want=("api", "ops", "x")),
    "slash-before-colon-means-no-kind": Case("ns/na:me", default_kind="k", want=("k", "ns", "na:me")),
    "case-is-kept": Case("Component:Default/MyService", want=("Component", "Default", "MyService")),
    "name-after-later-separator": Case("a:b/c/d", want=("a", "b", "c/d")),
    "empty-kind-fails": Case(":x", default_kind="Group"),
    "empty-namespace-fails": Case("a:/b"),
    "empty-name-fails": Case("a:b/"),
    "empty-string-fails": Case("", default_kind="Group"),
    "explicit-kind-beats-default": Case("user:jdoe", default_kind="Group", want=("user", "default", "jdoe")),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_parse_ref_follows_backstage_rules(case: Case) -> None:
    if case.want is None:
        with pytest.raises(InvalidEntityRef):
            parse_ref(case.text, default_kind=case.default_kind, default_namespace=case.default_namespace)
        return
    ref = parse_ref(case.text, default_kind=case.default_kind, default_namespace=case.default_namespace)
    assert (ref.kind, ref.namespace, ref.name) == case.want


COMPOUND = {
    "all-parts": ({"kind": "API", "namespace": "x", "name": "y"}, None, "api:x/y"),
    "namespace-defaults": ({"kind": "API", "name": "y"}, None, "api:default/y"),
    "kind-defaults": ({"name": "y"}, "Group", "group:default/y"),
}


@pytest.mark.parametrize(("value", "default_kind", "want"), COMPOUND.values(), ids=COMPOUND.keys())
def test_compound_refs_parse_with_defaults(value: dict[str, str], default_kind: str | None, want: str) -> None:
    assert parse_ref(value, default_kind=default_kind).key == want


def test_compound_ref_without_kind_or_default_is_rejected() -> None:
    with pytest.raises(InvalidEntityRef, match="kind"):
        parse_ref({"name": "y"})


SPEC_FIELDS = {
    "owner-defaults-to-group-in-referrer-namespace": ("owner", "team-a", "group:ops/team-a"),
    "system-defaults-to-system": ("system", "pay", "system:ops/pay"),
    "provides-defaults-to-api": ("providesApis", "pay-api", "api:ops/pay-api"),
    "members-default-to-user": ("members", "jdoe", "user:ops/jdoe"),
    "subcomponent-defaults-to-component": ("subcomponentOf", "core", "component:ops/core"),
    "explicit-namespace-kept": ("owner", "default/team-a", "group:default/team-a"),
    "user-owner-explicit": ("owner", "user:jdoe", "user:ops/jdoe"),
}


@pytest.mark.parametrize(("field", "value", "want"), SPEC_FIELDS.values(), ids=SPEC_FIELDS.keys())
def test_spec_refs_use_field_kind_and_referrer_namespace(field: str, value: str, want: str) -> None:
    referrer = EntityRef("Component", "ops", "svc")
    assert parse_spec_ref(value, field=field, referrer=referrer).key == want


def test_depends_on_requires_a_kind() -> None:
    with pytest.raises(InvalidEntityRef, match="missing or empty kind"):
        parse_spec_ref("orders-db", field="dependsOn", referrer=EntityRef("Component", "default", "svc"))


def test_identity_is_case_insensitive_but_display_keeps_case() -> None:
    a, b = EntityRef("Component", "default", "MyService"), EntityRef("component", "DEFAULT", "myservice")
    assert a == b
    assert len({a, b}) == 1
    assert str(a) == "component:default/myservice"
    assert a.display == "Component:default/MyService"


# Parts that contain no separators and are non-empty: what a valid entity ref is made of.
part = st.text(alphabet=st.characters(exclude_characters=":/", exclude_categories=["Cs"]), min_size=1, max_size=20)


@given(kind=part, namespace=part, name=part)
def test_display_form_round_trips(kind: str, namespace: str, name: str) -> None:
    ref = EntityRef(kind, namespace, name)
    parsed = parse_ref(ref.display)
    assert (parsed.kind, parsed.namespace, parsed.name) == (kind, namespace, name)


@given(kind=part, namespace=part, name=part)
def test_format_is_lower_case_and_stable(kind: str, namespace: str, name: str) -> None:
    text = format_ref(EntityRef(kind, namespace, name))
    assert text == text.lower()
    assert format_ref(parse_ref(text)) == text


# Case folding is only an identity for ASCII (``ß``.upper() is ``SS``), as in Backstage's toLowerCase.
ascii_part = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=1)


@given(kind=ascii_part, namespace=ascii_part, name=ascii_part)
def test_equality_ignores_case(kind: str, namespace: str, name: str) -> None:
    assert EntityRef(kind, namespace, name) == EntityRef(kind.upper(), namespace.lower(), name.swapcase())


@given(text=st.text(max_size=40))
def test_split_never_returns_empty_parts(text: str) -> None:
    try:
        kind, namespace, name = split_ref(text)
    except InvalidEntityRef:
        return
    assert name
    assert kind is None or kind
    assert namespace is None or namespace
    rebuilt = (f"{kind}:" if kind is not None else "") + (f"{namespace}/" if namespace is not None else "") + name
    assert rebuilt == text


@given(text=st.text(max_size=40), default_kind=st.none() | part)
def test_parse_either_succeeds_or_raises_invalid_ref(text: str, default_kind: str | None) -> None:
    try:
        ref = parse_ref(text, default_kind=default_kind)
    except InvalidEntityRef:
        return
    assert ref.name
    assert ref.kind
    assert ref.namespace
    assert ref.name in text
