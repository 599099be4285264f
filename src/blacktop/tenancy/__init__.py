"""Tenancy: who is calling (API tokens), what they may do (users, groups, role bindings, RBAC), team namespaces.

Everything here is pure except ``service.authenticate``, which reads a ``TokenStore`` port. The
write pipeline authenticates with ``authenticate``, then asks ``authorize`` with a ``Bindings``
snapshot compiled from the stored tenancy objects.
"""

from . import kinds, rbac, teamnamespaces, tokens
from .adapters.memory import InMemoryTokenStore
from .kinds import KINDS
from .ports import TokenStore
from .rbac import (
    AccessConfig,
    Bindings,
    Decision,
    Grant,
    KindTarget,
    ResourceClass,
    Verb,
    authorize,
    compile_bindings,
    effective_groups,
)
from .service import authenticate
from .tokens import ApiToken, generate_token, hash_token, issue_bootstrap_token, issue_token, verify_token

__all__ = [
    "KINDS",
    "AccessConfig",
    "ApiToken",
    "Bindings",
    "Decision",
    "Grant",
    "InMemoryTokenStore",
    "KindTarget",
    "ResourceClass",
    "TokenStore",
    "Verb",
    "authenticate",
    "authorize",
    "compile_bindings",
    "effective_groups",
    "generate_token",
    "hash_token",
    "issue_bootstrap_token",
    "issue_token",
    "kinds",
    "rbac",
    "teamnamespaces",
    "tokens",
    "verify_token",
]
