"""Parsing ESO documents: every problem reported with its field path, unsupported providers and
generators refused by name, Go durations, and the Password generator's rules.
"""

from __future__ import annotations

import os
import string
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.errors import InputError
from blacktop.secrets import eso
from blacktop.secrets.errors import ManifestError, UnsupportedProviderError
from blacktop.secrets.generators import generate_password


def external_secret(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "app", "namespace": "ns"},
        "spec": {"secretStoreRef": {"name": "s"}, **spec},
    }


def store(provider: dict[str, Any], kind: str = "SecretStore") -> dict[str, Any]:
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": kind,
        "metadata": {"name": "s"},
        "spec": {"provider": provider},
    }


INVALID = {
    "bad-secret-key-and-missing-remote-key": (
        external_secret(data=[{"secretKey": "bad key!", "remoteRef": {}}]),
        ["spec.data[0].secretKey", "spec.data[0].remoteRef.key"],
    ),
    "bad-interval-and-policy": (
        external_secret(refreshInterval="soon", target={"creationPolicy": "Sometimes"}),
        ["spec.target.creationPolicy", "spec.refreshInterval"],
    ),
    "datafrom-needs-exactly-one-source": (
        external_secret(dataFrom=[{"extract": {"key": "a"}, "find": {"path": "b"}}, {}]),
        ["spec.dataFrom[0]", "spec.dataFrom[1]"],
    ),
    "delete-needs-owner": (
        external_secret(target={"creationPolicy": "Orphan", "deletionPolicy": "Delete"}),
        ["spec.target.deletionPolicy"],
    ),
    "engine-v1-is-gone": (
        external_secret(target={"template": {"engineVersion": "v1"}}),
        ["spec.target.template.engineVersion"],
    ),
    "v1alpha1-not-served": ({**external_secret(), "apiVersion": "external-secrets.io/v1alpha1"}, ["apiVersion"]),
    "not-an-eso-kind": ({**external_secret(), "kind": "PushSecret"}, ["kind"]),
    "two-providers": (store({"vault": {"server": "x"}, "blacktop": {}}), ["spec.provider"]),
    "vault-without-server": (store({"vault": {"path": "secret"}}), ["spec.provider.vault.server"]),
}


@pytest.mark.parametrize(("doc", "paths"), INVALID.values(), ids=INVALID.keys())
def test_every_problem_is_reported_with_its_path(doc: dict[str, Any], paths: list[str]) -> None:
    with pytest.raises(ManifestError) as info:
        eso.parse_eso_document(doc)
    assert sorted(p.path for p in info.value.problems) == sorted(paths)
    assert isinstance(info.value, InputError)


UNSUPPORTED = {
    "aws-store": (store({"aws": {"service": "SecretsManager", "region": "eu-west-1"}}), "'aws'"),
    "cluster-gcp-store": (store({"gcpsm": {"projectID": "p"}}, kind="ClusterSecretStore"), "'gcpsm'"),
    "mixed-providers-name-the-unsupported": (store({"vault": {"server": "x"}, "azurekv": {}}), "'azurekv'"),
    "uuid-generator": (
        external_secret(dataFrom=[{"sourceRef": {"generatorRef": {"kind": "UUID", "name": "u"}}}]),
        "'UUID'",
    ),
}


@pytest.mark.parametrize(("doc", "name"), UNSUPPORTED.values(), ids=UNSUPPORTED.keys())
def test_unsupported_providers_are_refused_by_name(doc: dict[str, Any], name: str) -> None:
    with pytest.raises(UnsupportedProviderError, match=name):
        eso.parse_eso_document(doc)


def test_defaults_follow_eso() -> None:
    parsed = eso.parse_eso_document(external_secret())
    assert isinstance(parsed, eso.ExternalSecret)
    spec = parsed.spec
    assert spec.interval == timedelta(hours=1)
    assert spec.refresh_policy == "Periodic"
    assert (spec.target.creation_policy, spec.target.deletion_policy) == ("Owner", "Retain")
    assert spec.secret_store_ref.kind == "SecretStore"
    assert parsed.target_name == "app"


def test_vault_store_records_auth_method() -> None:
    parsed = eso.parse_eso_document(store({"vault": {"server": "https://v", "auth": {"appRole": {"roleId": "r"}}}}))
    assert isinstance(parsed, eso.SecretStore)
    assert parsed.spec.provider.vault is not None
    assert parsed.spec.provider.vault.auth_method == "appRole"
    assert parsed.spec.provider.vault.version == "v2"


DURATIONS = {
    "zero": ("0", timedelta(0)),
    "zero-seconds": ("0s", timedelta(0)),
    "go-default": ("1h0m0s", timedelta(hours=1)),
    "minutes": ("5m", timedelta(minutes=5)),
    "compound": ("1h30m15s", timedelta(hours=1, minutes=30, seconds=15)),
    "fraction": ("1.5h", timedelta(minutes=90)),
    "millis": ("250ms", timedelta(milliseconds=250)),
}


@pytest.mark.parametrize(("text", "want"), DURATIONS.values(), ids=DURATIONS.keys())
def test_go_durations(text: str, want: timedelta) -> None:
    assert eso.parse_go_duration(text) == want


@pytest.mark.parametrize("text", ["", "5", "1d", "h", "1h 5m", "5m1"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match="Go duration"):
        eso.parse_go_duration(text)


@given(h=st.integers(0, 1000), m=st.integers(0, 59), s=st.integers(0, 59))
def test_go_duration_round_trip(h: int, m: int, s: int) -> None:
    assert eso.parse_go_duration(f"{h}h{m}m{s}s") == timedelta(hours=h, minutes=m, seconds=s)


PASSWORDS = {
    "defaults": (eso.PasswordSpec(), 24, 6, 6),
    "explicit-counts": (
        eso.PasswordSpec(length=42, digits=5, symbols=5, symbolCharacters="-_$@", allowRepeat=True),
        42,
        5,
        5,
    ),
    "no-symbols": (eso.PasswordSpec(length=16, symbols=0), 16, 4, 0),
}


@pytest.mark.parametrize(("spec", "length", "digits", "symbols"), PASSWORDS.values(), ids=PASSWORDS.keys())
def test_password_generator_composition(spec: eso.PasswordSpec, length: int, digits: int, symbols: int) -> None:
    password = generate_password(spec, entropy=os.urandom)["password"].decode()
    assert len(password) == length
    assert sum(c in string.digits for c in password) == digits
    assert sum(not c.isalnum() for c in password) == symbols
    if not spec.allow_repeat:
        assert len(set(password)) == len(password)


def test_password_no_upper_and_encoding() -> None:
    raw = generate_password(eso.PasswordSpec(length=30, noUpper=True, symbols=0), entropy=os.urandom)["password"]
    assert raw.decode() == raw.decode().lower()
    hexed = generate_password(eso.PasswordSpec(length=8, encoding="hex"), entropy=os.urandom)["password"]
    assert len(hexed) == 16


def test_impossible_password_spec_is_refused() -> None:
    with pytest.raises(ManifestError) as info:
        generate_password(eso.PasswordSpec(length=4, digits=3, symbols=3), entropy=os.urandom)
    assert "spec.digits" in [p.path for p in info.value.problems]


def test_password_generator_document_parses() -> None:
    doc = {
        "apiVersion": "generators.external-secrets.io/v1alpha1",
        "kind": "Password",
        "metadata": {"name": "pw"},
        "spec": {
            "length": 42,
            "digits": 5,
            "symbols": 5,
            "symbolCharacters": "-_$@",
            "noUpper": False,
            "allowRepeat": True,
        },
    }
    parsed = eso.parse_eso_document(doc)
    assert isinstance(parsed, eso.PasswordGenerator)
    assert parsed.spec.symbol_characters == "-_$@"
