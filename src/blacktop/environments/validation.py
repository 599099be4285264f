"""Every problem of a ``PreviewEnvironment`` document, each with its field path, in pure code.

The write pipeline enforces the same rules through the kind's schema and the feature's admission
policy (``kinds.admission_policy``); this module states them once more for the controller (an
object stored before the policy existed is reported in status, not half-provisioned) and for tests,
which check that the pure rules and the policy agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from blacktop.kernel.errors import InputError, Problem
from blacktop.kernel.kinds import validate_object

from . import kinds


def problems_in(document: Mapping[str, Any]) -> list[Problem]:
    """Every problem of ``document``: the schema's, then the admission policy's rules on fields the schema passed."""
    try:
        defaulted = validate_object(kinds.PREVIEW_ENVIRONMENT, document)
    except InputError as exc:
        reported = {p.path for p in exc.problems}
        spec = document.get("spec")
        extra = kinds.spec_problems(spec) if isinstance(spec, Mapping) else []
        return [*exc.problems, *(p for p in extra if p.path not in reported)]
    return kinds.spec_problems(defaulted.get("spec") or {})
