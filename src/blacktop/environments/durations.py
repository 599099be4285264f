"""Go-style durations (``72h``, ``1h30m``, ``90s``, ``1.5h``) as ``PreviewEnvironment.spec.ttl`` reads them.

Kept apart from the model because the same grammar is enforced in three places that must agree:
the parser here (used by the controller), the regular expression in the admission policy (used by
the write pipeline, so bad input is a 422 before anything is stored) and the docs. Go's
``time.ParseDuration`` also accepts signs and a bare ``0``; a preview's lifetime must be positive,
so this grammar leaves both out.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Final

from blacktop.kernel.errors import InputError, Problem

UNITS: Final[dict[str, Decimal]] = {
    "ns": Decimal("0.000000001"),
    "us": Decimal("0.000001"),
    "µs": Decimal("0.000001"),
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
}
"""Seconds per unit, as Go's ``time`` package names them (no days: Go has none)."""

PATTERN: Final = "^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$"
"""The whole grammar as one RE2/Python regular expression (``[.]`` because CEL strings have no ``\\.``)."""

_WHOLE: Final = re.compile(PATTERN)
_PART: Final = re.compile(r"([0-9]+(?:[.][0-9]+)?)(ns|us|µs|ms|s|m|h)")

HINT: Final = "use a Go duration such as 72h, 90m or 1h30m (units ns, us, ms, s, m, h; no days)"


def is_duration(text: str) -> bool:
    """Whether ``text`` follows the grammar (``0s`` does; ``parse_duration`` then refuses it as not positive)."""
    return isinstance(text, str) and _WHOLE.fullmatch(text) is not None


def parse_duration(text: str, *, path: str = "spec.ttl") -> timedelta:
    """``text`` as a ``timedelta``; ``InputError`` at ``path`` when it is not a positive Go duration."""
    if not is_duration(text):
        raise InputError(
            f"duration {text!r} is not a Go duration; {HINT}",
            problems=[Problem(path, f"{text!r} is not a duration; {HINT}")],
        )
    seconds = Decimal(0)
    for number, unit in _PART.findall(text):
        try:
            seconds += Decimal(number) * UNITS[unit]
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimals
            raise InputError(f"duration {text!r} has a bad number {number!r}") from exc
    if seconds <= 0:
        raise InputError(
            f"duration {text!r} is not positive", problems=[Problem(path, f"{text!r} must be longer than zero")]
        )
    if seconds > Decimal(timedelta.max.total_seconds()):
        raise InputError(f"duration {text!r} is too long", problems=[Problem(path, f"{text!r} is too long")])
    # Rounded up to whole microseconds (timedelta's unit), so a positive duration never becomes zero.
    return timedelta(microseconds=int((seconds * 1_000_000).to_integral_value(rounding=ROUND_CEILING)))


def format_duration(delta: timedelta) -> str:
    """``delta`` written the way Go prints durations, without fractions below a second (``72h0m0s`` → ``72h``).

    Zero parts are left out, so the result is short and parses back to the same whole seconds.
    """
    total = int(delta.total_seconds())
    if total <= 0:
        return "0s"
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{seconds}s" if seconds else ""]
    return "".join(parts)
