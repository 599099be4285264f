"""Kubernetes resource quantities (``100m``, ``64Gi``, ``2``, ``1e3``): parsing and comparing them exactly.

Quotas and container limits (TeamNamespace, PreviewEnvironment) are Kubernetes quantities, which the
platform must refuse (``64Gx``) before they reach a cluster and compare (a default request must not
exceed its limit); compositions convert them to numbers (Crossplane's ``convert`` with format
``quantity``). Values are parsed into ``Decimal`` so that ``0.1`` and ``100m`` compare equal without
floating-point surprises. The grammar is the one of ``resource.Quantity`` in apimachinery with
integer exponents only; a sign is accepted only when the caller asks for it (no quota or limit is
negative).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

QUANTITY_PATTERN: Final = r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
"""The schema ``pattern`` a quantity string must match (the same grammar ``parse_quantity`` accepts)."""

_QUANTITY: Final = re.compile(
    r"^(?P<sign>[+-]?)(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?P<suffix>([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)

BINARY_SUFFIXES: Final[dict[str, int]] = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
"""Binary SI suffixes and their multipliers."""

DECIMAL_SUFFIXES: Final[dict[str, Decimal]] = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
"""Decimal SI suffixes and their multipliers (``""`` means 1)."""

EXAMPLES: Final = "e.g. 100m, 2, 1.5, 128Mi, 64Gi or 1e3"
"""What error messages suggest."""


class QuantityError(ValueError):
    """A value that is not a (non-negative) Kubernetes quantity."""


def is_quantity(value: object) -> bool:
    """Whether ``value`` is a non-negative integer or a string in the quantity grammar."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    if not isinstance(value, str):
        return False
    match = _QUANTITY.fullmatch(value)
    return match is not None and match.group("sign") != "-"


def parse_quantity(value: object, *, signed: bool = False) -> Decimal:
    """The exact amount ``value`` stands for (``"100m"`` → ``Decimal("0.100")``); ``QuantityError`` if invalid.

    Negative amounts are refused unless ``signed`` (quotas and limits are never negative).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0 and not signed:
            raise QuantityError(f"{value} is negative; quotas and limits must be zero or more")
        return Decimal(value)
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a quantity; write a string or an integer ({EXAMPLES})")
    match = _QUANTITY.fullmatch(value)
    if match is None or (match.group("sign") == "-" and not signed):
        raise QuantityError(f"{value!r} is not a Kubernetes quantity ({EXAMPLES})")
    number = Decimal(match.group("number"))
    if match.group("sign") == "-":
        number = -number
    suffix = match.group("suffix") or ""
    if suffix in BINARY_SUFFIXES:
        return number * BINARY_SUFFIXES[suffix]
    if suffix in DECIMAL_SUFFIXES:
        return number * DECIMAL_SUFFIXES[suffix]
    if suffix:
        return number.scaleb(int(suffix[1:]))
    return number


def cel_quantity(variable: str) -> str:
    """A CEL expression turning the quantity string in ``variable`` into a double (for admission policies).

    Binary suffixes are tested before decimal ones (``Mi`` before ``M``); a string ending in a digit
    is a plain number or an exponent form, which CEL's ``double()`` reads as it is.
    """
    v = variable
    branches: list[tuple[str, int, str]] = [(s, 2, f"* {float(m)!r}") for s, m in BINARY_SUFFIXES.items()]
    for suffix, multiplier in DECIMAL_SUFFIXES.items():
        branches.append((suffix, 1, f"* {float(multiplier)!r}"))
    expression = f"double({v})"
    for suffix, length, scale in reversed(branches):
        head = f"double({v}.substring(0, size({v}) - {length}))"
        expression = f"{v}.endsWith({suffix!r}) ? {head} {scale} : {expression}"
    return f"({expression})"
