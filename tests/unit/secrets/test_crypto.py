"""Envelope encryption: round trips, tamper detection per byte region, wrong KEK, re-wrap.

Test design: every field of a ``SealedValue`` is a place an attacker (or a disk) can flip bits. For
each field we flip the first, a middle and the last byte and require ``SecretIntegrityError`` –
never garbage plaintext and never a different exception type.
"""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.secrets import crypto
from blacktop.secrets.errors import SecretIntegrityError, UnknownKekError

AAD = crypto.associated_data("secret/payments/db", 3)
PLAINTEXT = b'{"password":"hunter2-very-secret"}'


def ring(kek_id: str = "kek-1", fill: int = 1) -> crypto.KeyRing:
    return crypto.KeyRing(current=crypto.Kek(kek_id=kek_id, key=bytes([fill]) * 32))


def sealed() -> crypto.SealedValue:
    return crypto.seal(PLAINTEXT, aad=AAD, keyring=ring(), entropy=os.urandom)


def flip(data: bytes, index: int) -> bytes:
    i = index % len(data)
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]


FIELDS = ["ciphertext", "nonce", "wrapped_dek", "dek_nonce"]
POSITIONS = {"first": 0, "middle": 7, "last": -1}


@pytest.mark.parametrize("position", POSITIONS.values(), ids=POSITIONS.keys())
@pytest.mark.parametrize("field", FIELDS)
def test_flipping_any_byte_region_is_detected(field: str, position: int) -> None:
    value = sealed()
    changes: dict[str, Any] = {field: flip(getattr(value, field), position)}
    tampered = replace(value, **changes)
    with pytest.raises(SecretIntegrityError):
        crypto.open_sealed(tampered, aad=AAD, keyring=ring())


def test_every_single_ciphertext_byte_flip_is_detected() -> None:
    value = sealed()
    for index in range(len(value.ciphertext)):
        with pytest.raises(SecretIntegrityError):
            crypto.open_sealed(replace(value, ciphertext=flip(value.ciphertext, index)), aad=AAD, keyring=ring())


def test_truncated_ciphertext_is_detected() -> None:
    value = sealed()
    with pytest.raises(SecretIntegrityError):
        crypto.open_sealed(replace(value, ciphertext=value.ciphertext[:-1]), aad=AAD, keyring=ring())


AAD_CASES = {
    "other-path": crypto.associated_data("secret/payments/other", 3),
    "other-version": crypto.associated_data("secret/payments/db", 4),
}


@pytest.mark.parametrize("aad", AAD_CASES.values(), ids=AAD_CASES.keys())
def test_ciphertext_moved_to_another_path_or_version_is_detected(aad: bytes) -> None:
    with pytest.raises(SecretIntegrityError):
        crypto.open_sealed(sealed(), aad=aad, keyring=ring())


def test_wrong_kek_with_same_id_fails_cleanly() -> None:
    with pytest.raises(SecretIntegrityError, match="KEK 'kek-1'"):
        crypto.open_sealed(sealed(), aad=AAD, keyring=ring(fill=2))


def test_kek_id_altered_or_missing_from_ring_is_reported_by_id() -> None:
    with pytest.raises(UnknownKekError, match="'kek-9'"):
        crypto.open_sealed(replace(sealed(), kek_id="kek-9"), aad=AAD, keyring=ring())


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(SecretIntegrityError, match="algorithm"):
        crypto.open_sealed(replace(sealed(), algorithm="ROT13"), aad=AAD, keyring=ring())


def test_rewrap_moves_dek_to_new_kek_and_keeps_ciphertext() -> None:
    value = sealed()
    rotated = ring().rotated_to(crypto.Kek(kek_id="kek-2", key=b"\x02" * 32))
    fresh = crypto.rewrap(value, aad=AAD, keyring=rotated, entropy=os.urandom)
    assert fresh.kek_id == "kek-2"
    assert fresh.ciphertext == value.ciphertext
    assert fresh.wrapped_dek != value.wrapped_dek
    only_new = crypto.KeyRing(current=rotated.current)
    assert crypto.open_sealed(fresh, aad=AAD, keyring=only_new) == PLAINTEXT
    with pytest.raises(SecretIntegrityError):
        crypto.open_sealed(value, aad=AAD, keyring=only_new)


def test_plaintext_never_appears_in_sealed_bytes() -> None:
    value = sealed()
    blob = value.ciphertext + value.wrapped_dek + value.nonce + value.dek_nonce
    assert b"hunter2" not in blob
    assert bytes([1]) * 32 not in blob


@settings(max_examples=50, deadline=None)
@given(plaintext=st.binary(max_size=2048), path=st.text(min_size=1, max_size=40), version=st.integers(1, 10**6))
def test_seal_open_round_trips(plaintext: bytes, path: str, version: int) -> None:
    aad = crypto.associated_data(path, version)
    value = crypto.seal(plaintext, aad=aad, keyring=ring(), entropy=os.urandom)
    assert crypto.open_sealed(value, aad=aad, keyring=ring()) == plaintext


ENV_CASES = {
    "missing": ({}, "not set"),
    "no-id": ({"BLACKTOP_SECRETS_KEK": base64.b64encode(b"x" * 32).decode()}, "<kek-id>"),
    "short-key": ({"BLACKTOP_SECRETS_KEK": "k1:" + base64.b64encode(b"x" * 16).decode()}, "32 bytes"),
    "not-base64": ({"BLACKTOP_SECRETS_KEK": "k1:!!!"}, "base64"),
}


@pytest.mark.parametrize(("environ", "message"), ENV_CASES.values(), ids=ENV_CASES.keys())
def test_bad_kek_configuration_is_refused_with_a_fix(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        crypto.keyring_from_environment(environ)


def test_keyring_from_environment_reads_current_and_retired() -> None:
    key = base64.b64encode(b"a" * 32).decode()
    old = base64.b64encode(b"b" * 32).decode()
    keys = crypto.keyring_from_environment(
        {"BLACKTOP_SECRETS_KEK": f"k2:{key}", "BLACKTOP_SECRETS_KEK_RETIRED": f"k1:{old}"}
    )
    assert keys.current.kek_id == "k2"
    assert keys.find("k1").key == b"b" * 32
    assert "aaaa" not in repr(keys.current)
