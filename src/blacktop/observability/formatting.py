"""Go-compatible printing of floats and Prometheus durations.

Sloth is written in Go, and the rules it generates carry Go's float and duration spellings
(``0.0009999999999999432``, ``1w``, ``1d12h``). Rules blacktop generates must read the same, so the
formatting rules live here, separate from rule generation, and are property-tested on their own.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Final

_MS_PER: Final[dict[str, int]] = {
    "y": 365 * 24 * 3600 * 1000,
    "w": 7 * 24 * 3600 * 1000,
    "d": 24 * 3600 * 1000,
    "h": 3600 * 1000,
    "m": 60 * 1000,
    "s": 1000,
    "ms": 1,
}
_DURATION_RE: Final = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


def parse_duration_ms(text: str) -> int:
    """Parse a Prometheus duration (``5m``, ``1d12h``, ``4w``) into milliseconds.

    Raises ``ValueError`` for anything Prometheus' ``model.ParseDuration`` would reject, including
    the empty string and ``0``.
    """
    match = _DURATION_RE.match(text)
    if text in ("", "0") or match is None:
        raise ValueError(f"duration {text!r} is not a Prometheus duration such as 30s, 5m, 1h or 1d")
    total = 0
    for group, unit in zip(match.groups(), _MS_PER, strict=True):
        if group is not None:
            total += int(group) * _MS_PER[unit]
    return total


def format_duration_ms(ms: int) -> str:
    """Print milliseconds the way Prometheus' ``model.Duration.String`` does.

    ``y`` and ``w`` are used only when the whole duration is an exact multiple of them, so 7d
    prints as ``1w`` and 36h as ``1d12h``.
    """
    if ms < 0:
        raise ValueError("durations are never negative")
    if ms == 0:
        return "0s"
    out = []
    remaining = ms
    for unit, size in _MS_PER.items():
        exact_only = unit in ("y", "w")
        if exact_only and remaining % size != 0:
            continue
        count = remaining // size
        if count > 0:
            out.append(f"{count}{unit}")
            remaining -= count * size
    return "".join(out)


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits of a positive finite float and its decimal point position."""
    _, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(str(d) for d in digits)
    assert isinstance(exponent, int)
    return text, len(text) + exponent


def format_go_float(value: float) -> str:
    """Print a float like Go's ``%g``/``%v`` with shortest precision (``strconv 'g', -1``).

    Exponent form is used when the decimal exponent is below -4 or at least 6 (Go uses precision 6
    for that decision when printing the shortest digits), with an exponent of at least two digits
    (``1e-05``, ``1.234567e+06``); otherwise plain decimal digits.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits, point = _shortest_digits(abs(value))
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp_sign = "-" if exponent < 0 else "+"
        return f"{sign}{mantissa}e{exp_sign}{abs(exponent):02d}"
    return sign + _plain(digits, point)


def format_go_float_fixed(value: float) -> str:
    """Print a float like Go's ``strconv.FormatFloat(v, 'f', -1, 64)``: shortest digits, no exponent."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, point = _shortest_digits(abs(value))
    return sign + _plain(digits, point)


def _plain(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * (-point) + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]
