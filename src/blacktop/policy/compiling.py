"""Parsing ValidatingPolicy objects and compiling their CEL, once per policy version.

Expressions are checked when a policy is written (``validate_policy``), so a typo surfaces as a
422 on the policy, with the path of the bad expression, and not as a refused write later. The
checks are: the expression parses, uses only the variables ``object``, ``oldObject`` and
``request`` (plus names bound by macros such as ``all(x, ...)``), and calls only functions the
evaluator provides. The CEL library has no type checker, so type errors (``1 + "a"``) surface at
evaluation time and follow the policy's ``failurePolicy``.

Compiled policies are cached by name and spec text, so a policy is compiled once per change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

import cel
import cel.stdlib

from blacktop.kernel.errors import InputError, Problem
from blacktop.kernel.selectors import LabelSelector, Operator, Requirement

from . import kinds, model

VARIABLES: Final = frozenset({"object", "oldObject", "request"})
"""The variables an expression may read."""

EXTENSION_FUNCTIONS: Final = dict(cel.stdlib.STDLIB_FUNCTIONS)
"""The cel-go style extension functions (``lowerAscii``, ``split``, ``join``, ...) offered to every expression."""

_NATIVE_FUNCTIONS: Final = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches",
        "int", "uint", "double", "string", "bytes", "timestamp", "duration", "type", "dyn",
        "getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear",
        "getHours", "getMinutes", "getSeconds", "getMilliseconds",
        "of", "none", "hasValue", "value", "or", "orValue",
    }
)  # fmt: skip
FUNCTIONS: Final = _NATIVE_FUNCTIONS | frozenset(EXTENSION_FUNCTIONS)
"""Every named function an expression may call; operators (``_==_``, ``@in``) are always allowed."""

_MACRO_BINDING = re.compile(r"\b(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")
_CEL_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")
_OPERATOR_PREFIXES: Final = ("_", "@", "!_", "-_")

_SELECTOR_OPERATORS: Final = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def _describe_compile_error(exc: Exception) -> str:
    match = _CEL_ERROR.search(str(exc))
    if match is None:
        return f"does not compile: {str(exc).splitlines()[0]}"
    line, column, detail = match.groups()
    return f"does not compile: {detail} (line {line}, column {column})"


@lru_cache(maxsize=4096)
def _compile(expression: str) -> cel.Program:
    return cel.compile(expression)


def compile_expression(expression: str) -> tuple[cel.Program | None, list[str]]:
    """Compile ``expression`` and check its variables and functions; returns the program and any complaints."""
    try:
        program = _compile(expression)
    except ValueError as exc:
        return None, [_describe_compile_error(exc)]
    complaints: list[str] = []
    bound = set(_MACRO_BINDING.findall(expression))
    unknown_vars = sorted(set(program.variables()) - VARIABLES - bound)
    if unknown_vars:
        complaints.append(
            f"uses unknown variable(s) {', '.join(unknown_vars)}; expressions may read object, oldObject and request"
        )
    unknown_funcs = sorted(
        f for f in program.functions() if not f.startswith(_OPERATOR_PREFIXES) and f not in FUNCTIONS
    )
    if unknown_funcs:
        complaints.append(f"calls unknown function(s) {', '.join(unknown_funcs)}")
    return (program if not complaints else None), complaints


def _strings(value: Any) -> frozenset[str]:
    return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()


def _parse_rules(match: Mapping[str, Any], problems: list[Problem]) -> tuple[model.ResourceRule, ...]:
    rules = []
    for i, raw in enumerate(match.get("resourceRules") or []):
        operations = _strings(raw.get("operations", list(kinds.DEFAULT_OPERATIONS)))
        bad = sorted(operations - {*kinds.OPERATIONS, model.ANY})
        if bad:
            problems.append(
                Problem(
                    f"spec.matchConstraints.resourceRules[{i}].operations", f"unknown operation(s) {', '.join(bad)}"
                )
            )
        if not _strings(raw.get("kinds")):
            problems.append(Problem(f"spec.matchConstraints.resourceRules[{i}].kinds", "name at least one kind or '*'"))
        rules.append(
            model.ResourceRule(
                api_groups=_strings(raw.get("apiGroups", [model.ANY])),
                kinds=_strings(raw.get("kinds")),
                operations=operations,
            )
        )
    if not rules:
        problems.append(Problem("spec.matchConstraints.resourceRules", "list at least one resource rule"))
    return tuple(rules)


def _parse_selector(raw: Mapping[str, Any], problems: list[Problem]) -> LabelSelector:
    base = "spec.matchConstraints.objectSelector"
    requirements = [
        Requirement(str(k), Operator.EQUALS, (str(v),)) for k, v in sorted((raw.get("matchLabels") or {}).items())
    ]
    for j, expr in enumerate(raw.get("matchExpressions") or []):
        operator = _SELECTOR_OPERATORS.get(str(expr.get("operator")))
        values = tuple(str(v) for v in expr.get("values") or [])
        path = f"{base}.matchExpressions[{j}]"
        if operator is None:
            problems.append(Problem(f"{path}.operator", "must be one of In, NotIn, Exists, DoesNotExist"))
            continue
        if operator in (Operator.IN, Operator.NOT_IN) and not values:
            problems.append(Problem(f"{path}.values", f"{expr.get('operator')} needs at least one value"))
        if operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
            problems.append(Problem(f"{path}.values", f"{expr.get('operator')} takes no values; remove them"))
        requirements.append(Requirement(str(expr.get("key")), operator, values))
    return LabelSelector(tuple(requirements))


def _parse_validations(raw_list: Sequence[Any], problems: list[Problem]) -> tuple[model.CompiledValidation, ...]:
    compiled = []
    for i, raw in enumerate(raw_list):
        expression = str(raw.get("expression") or "")
        program, complaints = compile_expression(expression) if expression else (None, ["is required"])
        problems.extend(Problem(f"spec.validations[{i}].expression", c) for c in complaints)
        message_program = None
        if raw.get("messageExpression"):
            message_program, complaints = compile_expression(str(raw["messageExpression"]))
            problems.extend(Problem(f"spec.validations[{i}].messageExpression", c) for c in complaints)
        if program is not None:
            compiled.append(
                model.CompiledValidation(
                    index=i,
                    expression=expression,
                    program=program,
                    message=str(raw.get("message") or ""),
                    message_program=message_program,
                    reason=str(raw.get("reason") or "Invalid"),
                    field_path=str(raw.get("fieldPath") or ""),
                )
            )
    if not raw_list:
        problems.append(Problem("spec.validations", "list at least one validation"))
    return tuple(compiled)


@lru_cache(maxsize=1024)
def _compile_policy(name: str, spec_text: str) -> model.CompiledPolicy:
    spec = json.loads(spec_text)
    problems: list[Problem] = []
    failure = str(spec.get("failurePolicy") or model.FailurePolicy.FAIL.value)
    if failure not in {f.value for f in model.FailurePolicy}:
        problems.append(Problem("spec.failurePolicy", "must be Fail or Ignore"))
    match = spec.get("matchConstraints") or {}
    rules = _parse_rules(match, problems)
    selector = _parse_selector(match.get("objectSelector") or {}, problems)
    validations = _parse_validations(spec.get("validations") or [], problems)
    if problems:
        raise InputError(f"ValidatingPolicy {name} is invalid: {len(problems)} problem(s)", problems=problems)
    return model.CompiledPolicy(
        name=name,
        failure_policy=model.FailurePolicy(failure),
        match=model.MatchConstraints(
            rules=rules,
            namespaces=_strings(match.get("namespaces")),
            exclude_namespaces=_strings(match.get("excludeNamespaces")),
            object_selector=selector,
        ),
        validations=validations,
    )


def compile_policy(obj: Mapping[str, Any]) -> model.CompiledPolicy:
    """Parse and compile a ValidatingPolicy object (cached); ``InputError`` lists every problem with its path."""
    name = str((obj.get("metadata") or {}).get("name") or "(unnamed)")
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        raise InputError(f"ValidatingPolicy {name} has no spec", problems=[Problem("spec", "is required")])
    return _compile_policy(name, json.dumps(spec, sort_keys=True))


def validate_policy(obj: Mapping[str, Any]) -> None:
    """Check a ValidatingPolicy on write, beyond its schema: every expression compiles and is well formed."""
    compile_policy(obj)
