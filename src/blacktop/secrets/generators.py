"""The ESO ``Password`` generator, with randomness injected.

ESO builds passwords with sethvargo/go-password: ``length`` characters of which ``digits`` are
digits and ``symbols`` are symbols (each defaulting to a quarter of the length), letters for the
rest, lower-case only when ``noUpper``, and no repeated character unless ``allowRepeat``. The
generator emits one key, ``password``, optionally encoded.
"""

from __future__ import annotations

import base64
import string
from typing import Final

from blacktop.kernel.errors import Problem

from .crypto import Entropy
from .errors import ManifestError
from .eso import PasswordSpec

DEFAULT_SYMBOLS: Final = '~!@#$%^&*()_+`-={}|[]\\:"<>?,./'


def _below(limit: int, entropy: Entropy) -> int:
    """A uniform integer in ``[0, limit)`` by rejection sampling (no modulo bias)."""
    mask = (1 << (limit - 1).bit_length()) - 1
    while True:
        value = int.from_bytes(entropy(4), "big") & mask
        if value < limit:
            return value


def generate_password(spec: PasswordSpec, *, entropy: Entropy) -> dict[str, bytes]:
    """Generate ``{"password": ...}`` as ESO's Password generator does."""
    digits = spec.digits if spec.digits is not None else spec.length // 4
    symbols = spec.symbols if spec.symbols is not None else spec.length // 4
    symbol_chars = spec.symbol_characters if spec.symbol_characters is not None else DEFAULT_SYMBOLS
    letters = string.ascii_lowercase if spec.no_upper else string.ascii_letters
    problems: list[Problem] = []
    if digits + symbols > spec.length:
        problems.append(Problem(path="spec.digits", message="digits + symbols must not exceed length"))
    if symbols and not symbol_chars:
        problems.append(Problem(path="spec.symbolCharacters", message="symbols requested but no symbol characters"))
    if not spec.allow_repeat:
        for count, pool, path in (
            (digits, string.digits, "spec.digits"),
            (symbols, symbol_chars, "spec.symbols"),
            (spec.length - digits - symbols, letters, "spec.length"),
        ):
            if count > len(set(pool)):
                problems.append(Problem(path=path, message="not enough distinct characters without allowRepeat"))
    if problems:
        raise ManifestError("Password generator spec cannot be satisfied", problems=problems)
    chars: list[str] = []
    for count, pool in ((digits, string.digits), (symbols, symbol_chars), (spec.length - digits - symbols, letters)):
        available = list(dict.fromkeys(pool))
        for _ in range(count):
            pick = available[_below(len(available), entropy)]
            chars.append(pick)
            if not spec.allow_repeat:
                available.remove(pick)
    for i in range(len(chars) - 1, 0, -1):
        j = _below(i + 1, entropy)
        chars[i], chars[j] = chars[j], chars[i]
    raw = "".join(chars).encode()
    encoded = {
        "raw": raw,
        "base64": base64.b64encode(raw),
        "base64url": base64.urlsafe_b64encode(raw),
        "base32": base64.b32encode(raw),
        "hex": raw.hex().encode(),
    }[spec.encoding]
    return {"password": encoded}
