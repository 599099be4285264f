"""Patch transforms: map, match, math, string and convert, with Crossplane's semantics.

Transforms run as a FIFO pipe over one JSON value (int, float, str, bool, None, dict, list). The
behaviour follows function-patch-and-transform's ``transforms.go`` (see the orchestration spec
sheet, section 1.6), including the places where Go differs from Python: ``%v`` formatting, RE2
regular expressions, ``strconv`` parsing rules and JSON encoding.

``native=True`` selects the legacy ``spec.resources`` dialect, which inferred ``string.type``
(``Format``) and ``math.type`` (``Multiply``); the pipeline function requires them.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from blacktop.kernel import quantities

from . import golang
from .errors import CompositionError, TransformError

__all__ = [
    "TRANSFORM_TYPES",
    "apply_transform",
    "apply_transforms",
    "convert_value",
    "parse_quantity",
    "transform_problems",
]

TRANSFORM_TYPES: Final = ("map", "match", "math", "string", "convert")

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def apply_transforms(value: Any, transforms: Sequence[Mapping[str, Any]], *, native: bool = False) -> Any:
    """Run ``transforms`` in order; an error names the index of the failing transform."""
    for index, transform in enumerate(transforms):
        try:
            value = apply_transform(value, transform, native=native)
        except CompositionError as exc:
            raise exc.wrap(f"transform {index}") from exc
    return value


def apply_transform(value: Any, transform: Mapping[str, Any], *, native: bool = False) -> Any:
    """Apply one transform to ``value`` and return the result (``value`` is never mutated)."""
    kind = transform.get("type")
    handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise TransformError(f"transform type {kind!r} is not supported; use one of {', '.join(TRANSFORM_TYPES)}")
    config = transform.get(str(kind))
    if not isinstance(config, Mapping):
        raise TransformError(f"{kind} transform needs a {kind!r} object with its settings")
    return handler(value, config, native)


# -- map ------------------------------------------------------------------------------------------


def _map(value: Any, config: Mapping[str, Any], native: bool) -> Any:
    if not config:
        raise TransformError("map transform needs at least one key-value pair")
    if not isinstance(value, str):
        raise TransformError(f"input is required to be a string for map transform type, got {_type(value)}")
    if value not in config:
        raise TransformError(f"key {value!r} is not found in map")
    return copy.deepcopy(config[value])


# -- match ----------------------------------------------------------------------------------------


def _match(value: Any, config: Mapping[str, Any], native: bool) -> Any:
    patterns = config.get("patterns") or []
    if not patterns:
        raise TransformError("match transform needs at least one pattern")
    fallback_to = config.get("fallbackTo") or "Value"
    if fallback_to not in ("Value", "Input"):
        raise TransformError(f"match fallbackTo {fallback_to!r} is invalid; use Value or Input")
    for index, pattern in enumerate(patterns):
        try:
            matched = _pattern_matches(pattern, value)
        except TransformError as exc:
            raise exc.wrap(f"pattern {index}") from exc
        if matched:
            return copy.deepcopy(pattern.get("result"))
    if fallback_to == "Input":
        # Checked only when falling back, as the function does.
        if config.get("fallbackValue") is not None:
            raise TransformError("match transform cannot set both a fallbackValue and fallbackTo: Input")
        return value
    return copy.deepcopy(config.get("fallbackValue"))


def _pattern_matches(pattern: Mapping[str, Any], value: Any) -> bool:
    kind = pattern.get("type") or "literal"
    if kind == "literal":
        literal = pattern.get("literal")
        if literal is None:
            raise TransformError("literal pattern needs 'literal'")
        if not isinstance(value, str):
            raise TransformError(f"literal pattern needs a string input, got {_type(value)}")
        return bool(value == literal)
    if kind == "regexp":
        expression = pattern.get("regexp")
        if not isinstance(expression, str):
            raise TransformError("regexp pattern needs 'regexp'")
        if not isinstance(value, str):
            raise TransformError(f"regexp pattern needs a string input, got {_type(value)}")
        return _re2(expression).search(value) is not None
    raise TransformError(f"match pattern type {kind!r} is invalid; use literal or regexp")


# -- math -----------------------------------------------------------------------------------------

_MATH_TYPES: Final = {"Multiply": "multiply", "ClampMin": "clampMin", "ClampMax": "clampMax"}


def _math(value: Any, config: Mapping[str, Any], native: bool) -> Any:
    kind = config.get("type")
    if kind is None:
        if not native:
            raise TransformError("math transform needs 'type' (Multiply, ClampMin or ClampMax)")
        kind = "Multiply"
    if kind not in _MATH_TYPES:
        raise TransformError(f"math transform type {kind!r} is invalid; use Multiply, ClampMin or ClampMax")
    operand = config.get(_MATH_TYPES[kind])
    if not isinstance(operand, int) or isinstance(operand, bool):
        raise TransformError(f"math transform {kind} needs an integer {_MATH_TYPES[kind]!r}")
    if not _is_number(value):
        raise TransformError(f"input is required to be a number for math transformer, got {_type(value)}")
    if kind == "Multiply":
        return value * operand if isinstance(value, int) else float(value) * float(operand)
    truncated = int(value)
    if kind == "ClampMin":
        return operand if truncated < operand else value
    return operand if truncated > operand else value


# -- string ---------------------------------------------------------------------------------------


def _string(value: Any, config: Mapping[str, Any], native: bool) -> Any:
    kind = config.get("type")
    if kind is None:
        if not native:
            raise TransformError("string transform needs 'type' (Format, Convert, TrimPrefix, ...)")
        kind = "Format"
    handler = _STRING_HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise TransformError(f"string transform type {kind!r} is invalid; use one of {', '.join(_STRING_HANDLERS)}")
    return handler(value, config)


def _string_format(value: Any, config: Mapping[str, Any]) -> str:
    fmt = config.get("fmt")
    if not isinstance(fmt, str):
        raise TransformError("string transform Format needs 'fmt'")
    return golang.sprintf(fmt, value)


def _hash_input(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode()
    return golang.go_json(value).encode()


_CONVERSIONS: Final[dict[str, Callable[[Any], str]]] = {
    "ToUpper": lambda v: golang.sprint_value(v).upper(),
    "ToLower": lambda v: golang.sprint_value(v).lower(),
    "ToBase64": lambda v: base64.b64encode(golang.sprint_value(v).encode()).decode(),
    "ToJson": lambda v: golang.go_json(v),
    "ToSha1": lambda v: hashlib.sha1(_hash_input(v)).hexdigest(),
    "ToSha256": lambda v: hashlib.sha256(_hash_input(v)).hexdigest(),
    "ToSha512": lambda v: hashlib.sha512(_hash_input(v)).hexdigest(),
    "ToAdler32": lambda v: str(zlib.adler32(_hash_input(v))),
}


def _string_convert(value: Any, config: Mapping[str, Any]) -> str:
    kind = config.get("convert")
    if kind == "FromBase64":
        try:
            decoded = base64.b64decode(golang.sprint_value(value).encode(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TransformError(f"cannot decode base64: {exc}") from exc
        return decoded.decode("utf-8", errors="replace")
    convert = _CONVERSIONS.get(kind) if isinstance(kind, str) else None
    if convert is None:
        names = ", ".join([*_CONVERSIONS, "FromBase64"])
        raise TransformError(f"string conversion {kind!r} is invalid; use one of {names}")
    return convert(value)


def _string_trim(value: Any, config: Mapping[str, Any], *, prefix: bool) -> str:
    trim = config.get("trim")
    if not isinstance(trim, str):
        raise TransformError(f"string transform {'TrimPrefix' if prefix else 'TrimSuffix'} needs 'trim'")
    text = golang.sprint_value(value)
    if prefix:
        return text.removeprefix(trim)
    return text.removesuffix(trim)


def _string_regexp(value: Any, config: Mapping[str, Any]) -> str:
    settings = config.get("regexp")
    if not isinstance(settings, Mapping) or not isinstance(settings.get("match"), str):
        raise TransformError("string transform Regexp needs 'regexp.match'")
    group = settings.get("group") or 0
    if not _is_int(group) or group < 0:
        raise TransformError("string transform Regexp 'regexp.group' must be a non-negative integer")
    pattern = _re2(settings["match"])
    found = pattern.search(golang.sprint_value(value))
    if found is None:
        raise TransformError(f"regexp {settings['match']!r} had no matches in {golang.sprint_value(value)!r}")
    if group > pattern.groups:
        raise TransformError(f"regexp {settings['match']!r} has no group {group}")
    return found.group(group) or ""


def _string_join(value: Any, config: Mapping[str, Any]) -> str:
    settings = config.get("join")
    if not isinstance(settings, Mapping) or not isinstance(settings.get("separator", ""), str):
        raise TransformError("string transform Join needs 'join.separator'")
    if not isinstance(value, list):
        raise TransformError(f"input is required to be an array for string transform Join, got {_type(value)}")
    # A real join: the function strips only one trailing byte, so multi-character separators
    # leave a residue there. blacktop follows the native implementation (spec sheet 1.6).
    return str(settings.get("separator", "")).join(golang.sprint_value(item) for item in value)


def _string_replace(value: Any, config: Mapping[str, Any]) -> str:
    settings = config.get("replace")
    if not isinstance(settings, Mapping) or not settings.get("search"):
        raise TransformError("string transform Replace needs a non-empty 'replace.search'")
    replacement = settings.get("replace") or ""
    return golang.sprint_value(value).replace(str(settings["search"]), str(replacement))


_STRING_HANDLERS: Final[dict[str, Callable[[Any, Mapping[str, Any]], str]]] = {
    "Format": _string_format,
    "Convert": _string_convert,
    "TrimPrefix": lambda v, c: _string_trim(v, c, prefix=True),
    "TrimSuffix": lambda v, c: _string_trim(v, c, prefix=False),
    "Regexp": _string_regexp,
    "Join": _string_join,
    "Replace": _string_replace,
}


# -- convert --------------------------------------------------------------------------------------

_TO_TYPES: Final = ("string", "int", "int64", "bool", "float64", "object", "array")
_TRUE: Final = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE: Final = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_GO_INT_RE: Final = re.compile(r"[+-]?[0-9]+")
_GO_FLOAT_RE: Final = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE
)


def _convert(value: Any, config: Mapping[str, Any], native: bool) -> Any:
    to_type = config.get("toType")
    if to_type not in _TO_TYPES:
        raise TransformError(f"convert toType {to_type!r} is invalid; use one of {', '.join(_TO_TYPES)}")
    fmt = config.get("format") or "none"
    if fmt not in ("none", "quantity", "json"):
        raise TransformError(f"convert format {fmt!r} is invalid; use none, quantity or json")
    return convert_value(value, to_type, fmt=fmt)


def convert_value(value: Any, to_type: str, *, fmt: str = "none") -> Any:
    """Convert a JSON scalar to ``to_type`` with Go's ``strconv`` rules (spec sheet 1.6)."""
    target = "int64" if to_type == "int" else to_type
    source = _type(value)
    if source not in ("string", "bool", "int64", "float64"):
        raise TransformError(f"input type {source} is not supported by the convert transform")
    if source == target:
        return value  # a no-op whatever the format, as in the function
    key = (source, target, fmt)
    converter = _CONVERTERS.get(key)
    if converter is None:
        raise TransformError(f"conversion from {source} to {target} is not supported with format {fmt}")
    return converter(value)


def _parse_int(text: str) -> int:
    if not _GO_INT_RE.fullmatch(text):
        raise TransformError(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    number = int(text)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise TransformError(f'strconv.ParseInt: parsing "{text}": value out of range')
    return number


def _parse_float(text: str) -> float:
    if not _GO_FLOAT_RE.fullmatch(text):
        raise TransformError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    return float(text)


def _parse_bool(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TransformError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def _parse_json(text: str, kind: type) -> Any:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TransformError(f"cannot parse JSON: {exc}") from exc
    if not isinstance(parsed, kind):
        wanted = "an object" if kind is dict else "an array"
        raise TransformError(f"JSON input is not {wanted}")
    return parsed


def parse_quantity(text: str) -> float:
    """A Kubernetes Quantity (``250m``, ``1Ki``, ``1.5G``, ``-1e3``) as an approximate float, as Crossplane reads it."""
    try:
        return float(quantities.parse_quantity(text, signed=True))
    except quantities.QuantityError as exc:
        raise TransformError(
            f"cannot parse {text!r} as a quantity: quantities must match '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ) from exc


_CONVERTERS: Final[dict[tuple[str, str, str], Callable[[Any], Any]]] = {
    ("string", "int64", "none"): _parse_int,
    ("string", "bool", "none"): _parse_bool,
    ("string", "float64", "none"): _parse_float,
    ("string", "float64", "quantity"): parse_quantity,
    ("string", "object", "json"): lambda v: _parse_json(v, dict),
    ("string", "array", "json"): lambda v: _parse_json(v, list),
    ("int64", "string", "none"): str,
    ("int64", "bool", "none"): lambda v: v == 1,
    ("int64", "float64", "none"): float,
    ("bool", "string", "none"): lambda v: "true" if v else "false",
    ("bool", "int64", "none"): int,
    ("bool", "float64", "none"): lambda v: 1.0 if v else 0.0,
    ("float64", "string", "none"): golang.format_float_fixed,
    ("float64", "int64", "none"): int,
    ("float64", "bool", "none"): lambda v: v == 1.0,
}


# -- helpers --------------------------------------------------------------------------------------


def _re2(pattern: str) -> re.Pattern[str]:
    try:
        return golang.compile_re2(pattern)
    except ValueError as exc:
        raise TransformError(str(exc)) from exc


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


_HANDLERS: Final[dict[str, Callable[[Any, Mapping[str, Any], bool], Any]]] = {
    "map": _map,
    "match": _match,
    "math": _math,
    "string": _string,
    "convert": _convert,
}


def transform_problems(transform: Mapping[str, Any], *, native: bool = False) -> list[str]:
    """Static problems of one transform's configuration (what Composition validation reports)."""
    kind = transform.get("type")
    if kind not in _HANDLERS:
        return [f"transform type {kind!r} is invalid; use one of {', '.join(TRANSFORM_TYPES)}"]
    config = transform.get(str(kind))
    if not isinstance(config, Mapping):
        return [f"{kind} transform needs a {kind!r} object with its settings"]
    problems: list[str] = []
    if kind == "map" and not config:
        problems.append("map transform needs at least one key-value pair")
    elif kind == "match":
        problems.extend(_match_problems(config))
    elif kind == "math":
        math_type = config.get("type") or ("Multiply" if native else None)
        if math_type not in _MATH_TYPES:
            problems.append(f"math transform type {math_type!r} is invalid; use Multiply, ClampMin or ClampMax")
        elif not _is_int(config.get(_MATH_TYPES[math_type])):
            problems.append(f"math transform {math_type} needs an integer {_MATH_TYPES[math_type]!r}")
    elif kind == "string":
        string_type = config.get("type") or ("Format" if native else None)
        if string_type not in _STRING_HANDLERS:
            names = ", ".join(_STRING_HANDLERS)
            problems.append(f"string transform type {string_type!r} is invalid; use one of {names}")
        elif string_type == "Regexp":
            expression = (config.get("regexp") or {}).get("match")
            if not isinstance(expression, str):
                problems.append("string transform Regexp needs 'regexp.match'")
            else:
                problems.extend(_regexp_problems(expression))
    elif kind == "convert":
        if config.get("toType") not in _TO_TYPES:
            problems.append(f"convert toType {config.get('toType')!r} is invalid; use one of {', '.join(_TO_TYPES)}")
        if (config.get("format") or "none") not in ("none", "quantity", "json"):
            problems.append(f"convert format {config.get('format')!r} is invalid; use none, quantity or json")
    return problems


def _match_problems(config: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    patterns = config.get("patterns") or []
    if not patterns:
        problems.append("match transform needs at least one pattern")
    for index, pattern in enumerate(patterns):
        kind = pattern.get("type") or "literal"
        if kind == "regexp":
            expression = pattern.get("regexp")
            if not isinstance(expression, str):
                problems.append(f"pattern {index}: regexp pattern needs 'regexp'")
            else:
                problems.extend(f"pattern {index}: {p}" for p in _regexp_problems(expression))
        elif kind == "literal":
            if pattern.get("literal") is None:
                problems.append(f"pattern {index}: literal pattern needs 'literal'")
        else:
            problems.append(f"pattern {index}: type {kind!r} is invalid; use literal or regexp")
    if (config.get("fallbackTo") or "Value") not in ("Value", "Input"):
        problems.append(f"match fallbackTo {config.get('fallbackTo')!r} is invalid; use Value or Input")
    return problems


def _regexp_problems(expression: str) -> list[str]:
    try:
        golang.compile_re2(expression)
    except ValueError as exc:
        return [str(exc)]
    return []
