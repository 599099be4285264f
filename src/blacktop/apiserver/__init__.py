"""The platform API server core: the one write pipeline and the read paths, independent of HTTP."""

from .ports import Admission, AuditTrail, Authorizer, Operation, Verb, WriteListener
from .service import ApplyResult, RequestContext, ResourceService

__all__ = [
    "Admission",
    "ApplyResult",
    "AuditTrail",
    "Authorizer",
    "Operation",
    "RequestContext",
    "ResourceService",
    "Verb",
    "WriteListener",
]
