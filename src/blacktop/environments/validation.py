"""Every problem of a ``PreviewEnvironment`` document, each with its field path, in pure code.

The write pipeline enforces the same rules through the kind's schema and the feature's admission
policy (``kinds.admission_policy``); this module states them once more for the controller (an
object stored before the policy existed is reported in status, not half-provisioned) and for tests,
which check that the pure rules and the policy agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from blacktop.kernel.errors import InputError, Problem
from blacktop.kernel.kinds import validate_object

from . import durations, kinds


def problems_in(document: Mapping[str, Any]) -> list[Problem]:
    """Every problem of ``document``: the schema's, then the admission policy's rules on fields the schema passed."""
    try:
        defaulted = validate_object(kinds.PREVIEW_ENVIRONMENT, document)
    except InputError as exc:
        reported = {p.path for p in exc.problems}
        spec = document.get("spec")
        extra = semantic_problems(spec) if isinstance(spec, Mapping) else []
        return [*exc.problems, *(p for p in extra if p.path not in reported)]
    return semantic_problems(defaulted.get("spec") or {})


def semantic_problems(spec: Mapping[str, Any]) -> list[Problem]:
    """The rules beyond the schema, over a defaulted spec: the TTL and unique dependency names."""
    problems: list[Problem] = []
    ttl = spec.get("ttl", kinds.DEFAULT_TTL)
    listed = spec.get("dependencies")
    dependencies = list(listed) if isinstance(listed, list) else []
    try:
        lifetime = durations.parse_duration(str(ttl), path="spec.ttl")
    except InputError as exc:
        problems.extend(exc.problems)
    else:
        if lifetime > kinds.MAX_TTL:
            problems.append(Problem("spec.ttl", f"{ttl!r} is out of range; at most {kinds.MAX_TTL_TEXT}"))
    names = Counter(str(d.get("name")) for d in dependencies if isinstance(d, Mapping))
    for index, dependency in enumerate(dependencies):
        if isinstance(dependency, Mapping) and names[str(dependency.get("name"))] > 1:
            problems.append(
                Problem(f"spec.dependencies[{index}].name", f"{dependency.get('name')!r} is used more than once")
            )
    return problems
