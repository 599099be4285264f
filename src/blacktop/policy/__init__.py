"""Admission policies: ValidatingPolicy objects whose CEL validations may refuse a write.

Pure: the write pipeline passes the current policies and an ``AdmissionRequest`` to ``admit`` (or
``evaluate`` for warnings too) and refuses the write with ``raise_for_violations``. Writes of
ValidatingPolicy objects themselves go through ``validate_policy`` so that bad CEL is a 422 on the
policy, naming ``spec.validations[i].expression``.
"""

from . import admission, compiling, kinds, model
from .admission import AdmissionReport, AdmissionRequest, admit, evaluate, matches, raise_for_violations
from .compiling import compile_policy, validate_policy
from .errors import PolicyError, PolicyForbidden, PolicyRejected
from .kinds import KINDS, VALIDATING_POLICY
from .model import CompiledPolicy, FailurePolicy, Operation, Violation

__all__ = [
    "KINDS",
    "VALIDATING_POLICY",
    "AdmissionReport",
    "AdmissionRequest",
    "CompiledPolicy",
    "FailurePolicy",
    "Operation",
    "PolicyError",
    "PolicyForbidden",
    "PolicyRejected",
    "Violation",
    "admission",
    "admit",
    "compile_policy",
    "compiling",
    "evaluate",
    "kinds",
    "matches",
    "model",
    "raise_for_violations",
    "validate_policy",
]
