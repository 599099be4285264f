"""Envelope encryption for secret versions: AES-256-GCM data keys wrapped by a key-encryption key.

Every secret version gets its own random 256-bit data key (DEK). The value is sealed with the DEK
under AES-256-GCM, with additional authenticated data (AAD) that binds the ciphertext to the
secret's path and version, so a ciphertext copied onto another row does not decrypt. The DEK is
itself sealed ("wrapped") with AES-256-GCM under the key-encryption key (KEK), whose id is stored
beside the wrapped DEK. The KEK lives outside the data (file or environment variable), so a copy of
the database alone reveals nothing.

Rotating the KEK only re-wraps the small DEKs (:func:`rewrap`); the value ciphertext is untouched,
so rotation is cheap and every old version stays readable throughout. Any authentication failure
raises :class:`SecretIntegrityError`; this module never returns unauthenticated bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import SecretIntegrityError, UnknownKekError

Entropy = Callable[[int], bytes]
"""A source of random bytes; production passes ``os.urandom``."""

system_entropy: Final[Entropy] = os.urandom

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
ALGORITHM: Final = "AES-256-GCM+AES-256-GCM-WRAP"
_KEK_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Kek:
    """A key-encryption key: an id recorded beside every wrapped DEK, and 32 secret bytes."""

    kek_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEK_ID.match(self.kek_id):
            raise ValueError(f"KEK id {self.kek_id!r} must match {_KEK_ID.pattern}")
        if len(self.key) != KEY_BYTES:
            raise ValueError(f"KEK {self.kek_id!r} must be {KEY_BYTES} bytes, got {len(self.key)}")


def parse_kek(kek_id: str, text: str) -> Kek:
    """Build a KEK from its base64 text (as stored in a file or environment variable)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"KEK {kek_id!r} is not valid base64; generate one with `openssl rand -base64 32`") from exc
    return Kek(kek_id=kek_id, key=raw)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The current KEK (used for new wraps) plus retired KEKs still needed to unwrap old versions."""

    current: Kek
    retired: tuple[Kek, ...] = ()

    def find(self, kek_id: str) -> Kek:
        """The KEK with this id, or :class:`UnknownKekError`."""
        for kek in (self.current, *self.retired):
            if kek.kek_id == kek_id:
                return kek
        raise UnknownKekError(
            f"key-encryption key {kek_id!r} is not in the key ring; "
            "load it as a retired KEK to read or re-wrap versions sealed under it"
        )

    def rotated_to(self, new: Kek) -> KeyRing:
        """A ring whose current KEK is ``new`` and which still holds every older KEK."""
        keep: Iterable[Kek] = (k for k in (self.current, *self.retired) if k.kek_id != new.kek_id)
        return KeyRing(current=new, retired=tuple(keep))


@dataclass(frozen=True, slots=True)
class SealedValue:
    """What is stored for one secret version: never plaintext, never an unwrapped key."""

    kek_id: str
    wrapped_dek: bytes
    dek_nonce: bytes
    nonce: bytes
    ciphertext: bytes
    algorithm: str = ALGORITHM


def associated_data(path: str, version: int) -> bytes:
    """The AAD binding a ciphertext to its secret path and version."""
    return f"blacktop.secrets/v1\x00{path}\x00{version}".encode()


def _wrap_aad(kek_id: str, aad: bytes) -> bytes:
    return b"blacktop.secrets.dek/v1\x00" + kek_id.encode() + b"\x00" + aad


def seal(plaintext: bytes, *, aad: bytes, keyring: KeyRing, entropy: Entropy) -> SealedValue:
    """Encrypt ``plaintext`` under a fresh data key wrapped by the ring's current KEK."""
    dek = entropy(KEY_BYTES)
    nonce = entropy(NONCE_BYTES)
    dek_nonce = entropy(NONCE_BYTES)
    if len(dek) != KEY_BYTES or len(nonce) != NONCE_BYTES or len(dek_nonce) != NONCE_BYTES:
        raise ValueError("entropy source returned the wrong number of bytes")
    ciphertext = AESGCM(dek).encrypt(nonce, plaintext, aad)
    kek = keyring.current
    wrapped = AESGCM(kek.key).encrypt(dek_nonce, dek, _wrap_aad(kek.kek_id, aad))
    return SealedValue(kek_id=kek.kek_id, wrapped_dek=wrapped, dek_nonce=dek_nonce, nonce=nonce, ciphertext=ciphertext)


def _unwrap(sealed: SealedValue, *, aad: bytes, keyring: KeyRing, what: str) -> bytes:
    kek = keyring.find(sealed.kek_id)
    try:
        dek = AESGCM(kek.key).decrypt(sealed.dek_nonce, sealed.wrapped_dek, _wrap_aad(kek.kek_id, aad))
    except (InvalidTag, ValueError) as exc:
        raise SecretIntegrityError(
            f"{what}: the wrapped data key failed authentication under KEK {kek.kek_id!r}; "
            "the stored key was altered or the KEK is wrong"
        ) from exc
    if len(dek) != KEY_BYTES:
        raise SecretIntegrityError(f"{what}: the unwrapped data key has the wrong length")
    return dek


def open_sealed(sealed: SealedValue, *, aad: bytes, keyring: KeyRing, what: str = "secret") -> bytes:
    """Decrypt a sealed value, or raise :class:`SecretIntegrityError`; ``what`` names it in messages."""
    if sealed.algorithm != ALGORITHM:
        raise SecretIntegrityError(f"{what}: unknown encryption algorithm {sealed.algorithm!r}")
    dek = _unwrap(sealed, aad=aad, keyring=keyring, what=what)
    try:
        return AESGCM(dek).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except (InvalidTag, ValueError) as exc:
        raise SecretIntegrityError(
            f"{what}: the ciphertext failed authentication; it was altered or moved from another path"
        ) from exc


def rewrap(sealed: SealedValue, *, aad: bytes, keyring: KeyRing, entropy: Entropy, what: str = "secret") -> SealedValue:
    """Re-wrap the data key under the ring's current KEK; the value ciphertext is kept as is."""
    if sealed.kek_id == keyring.current.kek_id:
        return sealed
    dek = _unwrap(sealed, aad=aad, keyring=keyring, what=what)
    kek = keyring.current
    dek_nonce = entropy(NONCE_BYTES)
    wrapped = AESGCM(kek.key).encrypt(dek_nonce, dek, _wrap_aad(kek.kek_id, aad))
    return SealedValue(
        kek_id=kek.kek_id,
        wrapped_dek=wrapped,
        dek_nonce=dek_nonce,
        nonce=sealed.nonce,
        ciphertext=sealed.ciphertext,
        algorithm=sealed.algorithm,
    )


def keyring_from_environment(environ: Mapping[str, str], *, prefix: str = "BLACKTOP_SECRETS_KEK") -> KeyRing:
    """Read ``<prefix>`` (current, as ``id:base64``) and ``<prefix>_RETIRED`` (comma-separated)."""
    current_text = environ.get(prefix)
    if not current_text:
        raise ValueError(f"environment variable {prefix} is not set; set it to '<kek-id>:<base64 32 bytes>'")

    def one(item: str) -> Kek:
        kek_id, sep, key_text = item.strip().partition(":")
        if not sep:
            raise ValueError(f"KEK entry in {prefix} must read '<kek-id>:<base64>'")
        return parse_kek(kek_id, key_text)

    retired_text = environ.get(prefix + "_RETIRED", "")
    retired = tuple(one(x) for x in retired_text.split(",") if x.strip())
    return KeyRing(current=one(current_text), retired=retired)
