"""Go semantics that Compositions depend on: ``fmt.Sprintf``, float printing, JSON and RE2.

Crossplane evaluates string formats (``string.fmt``, ``combine.string.fmt``) with Go's
``fmt.Sprintf`` and regular expressions with Go's RE2. Python's ``%`` operator and ``re`` module
differ in ways a Composition author notices (``%s`` of a number prints ``%!s(int64=5)`` in Go;
``%v`` of a map prints ``map[k:v]``; Python ``$`` also matches before a final newline; look-around
exists only in Python). This module reproduces the Go behaviour for the JSON value types a
Composition can hold (str, int, float, bool, None, dict, list), and refuses RE2-incompatible
patterns instead of silently giving different answers.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

__all__ = [
    "compile_re2",
    "format_float_fixed",
    "format_float_shortest",
    "go_json",
    "go_type_name",
    "sprint_value",
    "sprintf",
]


def go_type_name(value: Any) -> str:
    """The Go type name that ``fmt`` prints for a value decoded from JSON."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return type(value).__name__


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of ``abs(value)`` (no trailing zeros) and the decimal
    exponent of the leading digit."""
    _, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in digits).lstrip("0")
    return text.rstrip("0"), exponent + len(text) - 1


def format_float_shortest(value: float, *, exponent_threshold: int = 6) -> str:
    """Go's ``%v`` for float64: shortest digits, exponent form iff exp < -4 or exp >= 6."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    digits, exp10 = _shortest_digits(value)
    sign = "-" if value < 0 else ""
    if exp10 < -4 or exp10 >= exponent_threshold:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if exp10 < 0:
        return f"{sign}0.{'0' * (-exp10 - 1)}{digits}"
    if len(digits) <= exp10 + 1:
        return sign + digits + "0" * (exp10 + 1 - len(digits))
    return f"{sign}{digits[: exp10 + 1]}.{digits[exp10 + 1 :]}"


def format_float_fixed(value: float) -> str:
    """Go's ``strconv.FormatFloat(f, 'f', -1, 64)``: shortest digits, never an exponent."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _go_quote(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_ESCAPES: Final = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_json(value: Any) -> str:
    """Go's ``json.Marshal`` of a JSON value: compact, sorted keys, HTML characters escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class _Spec:
    __slots__ = ("minus", "plus", "precision", "sharp", "space", "verb", "width", "zero")

    def __init__(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.width: int | None = None
        self.precision: int | None = None
        self.verb = "v"


def _bad(verb: str, value: Any) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type_name(value)}={sprint_value(value)})"


def sprint_value(value: Any) -> str:
    """Go's ``fmt.Sprintf("%v", value)``."""
    return _format_one(_plain("v"), value)


def _plain(verb: str) -> _Spec:
    spec = _Spec()
    spec.verb = verb
    return spec


def _format_int(spec: _Spec, value: int) -> str:
    verb = spec.verb
    if verb in "vd":
        body = str(abs(value))
    elif verb == "x":
        body = format(abs(value), "x")
    elif verb == "X":
        body = format(abs(value), "X")
    elif verb == "o":
        body = format(abs(value), "o")
    elif verb == "b":
        body = format(abs(value), "b")
    elif verb == "c":
        return _rune(value)
    elif verb == "q":
        return "'" + _go_quote(_rune(value))[1:-1].replace("'", "\\'") + "'"
    else:
        return _bad(verb, value)
    if spec.precision is not None:
        body = body.rjust(spec.precision, "0")
    if spec.sharp and verb in "xX":
        body = ("0x" if verb == "x" else "0X") + body
    sign = "-" if value < 0 else ("+" if spec.plus else (" " if spec.space else ""))
    return sign + body


def _rune(value: int) -> str:
    """Go's rune conversion: an invalid code point becomes U+FFFD."""
    if 0 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF:
        return chr(value)
    return "\ufffd"


def _format_float(spec: _Spec, value: float) -> str:
    verb = spec.verb
    if verb == "v" or (verb in "gG" and spec.precision is None):
        text = format_float_shortest(value)
        if verb == "G":
            text = text.upper()
    elif verb in "fF":
        text = f"{value:.{6 if spec.precision is None else spec.precision}f}"
    elif verb in "eE":
        text = f"{value:.{6 if spec.precision is None else spec.precision}{verb}}"
    elif verb in "gG":
        text = f"{value:.{spec.precision}{verb}}"
    else:
        return _bad(verb, value)
    if spec.plus and not text.startswith("-"):
        text = "+" + text
    elif spec.space and not text.startswith("-"):
        text = " " + text
    return text


def _format_str(spec: _Spec, value: str) -> str:
    verb = spec.verb
    if spec.precision is not None and verb in "vsq":
        value = value[: spec.precision]
    if verb in "vs":
        return value
    if verb == "q":
        return _go_quote(value)
    if verb in "xX":
        text = value.encode().hex()
        return text.upper() if verb == "X" else text
    return _bad(verb, value)


def _format_one(spec: _Spec, value: Any) -> str:
    if value is None:
        return "<nil>" if spec.verb == "v" else _bad(spec.verb, value)
    if isinstance(value, bool):
        return ("true" if value else "false") if spec.verb in "vt" else _bad(spec.verb, value)
    if isinstance(value, int):
        return _format_int(spec, value)
    if isinstance(value, float):
        return _format_float(spec, value)
    if isinstance(value, str):
        return _format_str(spec, value)
    if isinstance(value, dict):
        inner = " ".join(f"{_format_one(spec, key)}:{_format_one(spec, value[key])}" for key in sorted(value, key=str))
        return f"map[{inner}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_format_one(spec, item) for item in value) + "]"
    return _format_one(spec, str(value))


def _pad(spec: _Spec, text: str, value: Any) -> str:
    if spec.width is None or len(text) >= spec.width:
        return text
    fill = spec.width - len(text)
    if spec.minus:
        return text + " " * fill
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if spec.zero and numeric and spec.verb not in "sqv":
        sign = text[0] if text[:1] in "+- " else ""
        return sign + "0" * fill + text[len(sign) :]
    return " " * fill + text


_VERB_RE: Final = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])?")


def sprintf(fmt: str, *args: Any) -> str:
    """Go's ``fmt.Sprintf`` for JSON values, including ``%!verb(type=value)`` mismatch output."""
    out: list[str] = []
    pos = 0
    used = 0
    while True:
        start = fmt.find("%", pos)
        if start == -1:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:start])
        match = _VERB_RE.match(fmt, start)
        assert match is not None
        flags, width, precision, verb = match.groups()
        pos = match.end()
        if verb is None:
            out.append("%!(NOVERB)")
            continue
        if verb == "%":
            out.append("%")
            continue
        spec = _plain(verb)
        spec.minus, spec.plus, spec.sharp = "-" in flags, "+" in flags, "#" in flags
        spec.space, spec.zero = " " in flags, "0" in flags
        if width == "*" or precision == "*":
            out.append(f"%!{verb}(BADWIDTH)")
            continue
        spec.width = int(width) if width else None
        if match.group(0).find(".") != -1:
            spec.precision = int(precision) if precision else 0
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        value = args[used]
        used += 1
        out.append(_pad(spec, _format_one(spec, value), value))
    if used < len(args):
        extra = ", ".join("<nil>" if a is None else f"{go_type_name(a)}={sprint_value(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


_UNSUPPORTED_RE2: Final = (
    (re.compile(r"\(\?<?[=!]"), "look-around assertions"),
    (re.compile(r"\\[1-9]"), "backreferences"),
    (re.compile(r"\(\?P="), "named backreferences"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"[*+?}]\+"), "possessive quantifiers"),
    (re.compile(r"\\[pP]"), "Unicode character classes (\\p)"),
)


@lru_cache(maxsize=512)
def compile_re2(pattern: str) -> re.Pattern[str]:
    """Compile an RE2 pattern with Python ``re`` so that it matches as Go would.

    Raises ``ValueError`` for syntax RE2 does not accept (look-around, backreferences, ...) or that
    Python cannot express. ``$`` and ``\\z`` are anchored at the very end of the text, as in RE2.
    """
    unescaped = re.sub(r"\\\\", "", pattern)
    for probe, feature in _UNSUPPORTED_RE2:
        if probe.search(unescaped):
            raise ValueError(f"regular expression {pattern!r} uses {feature}, which Go's RE2 does not support")
    translated = _translate_re2(pattern)
    try:
        return re.compile(translated)
    except re.error as exc:
        raise ValueError(f"regular expression {pattern!r} is invalid: {exc}") from exc


def _translate_re2(pattern: str) -> str:
    multiline = bool(re.match(r"\(\?[a-zA-Z]*m", pattern))
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\Z" if nxt == "z" and not in_class else ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        elif ch == "$" and not in_class and not multiline:
            out.append("\\Z")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)
