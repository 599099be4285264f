"""TeamNamespace: a team's isolated namespace declared once, provisioned on the platform and in Kubernetes.

The design's multi-tenancy manifest (``platform.company.io/v1alpha1 TeamNamespace``) becomes:
platform RoleBindings in the namespace of the same name (so the team's groups get admin,
developer and viewer rights in blacktop), and Kubernetes manifests (Namespace, ResourceQuota,
LimitRange, NetworkPolicies, RoleBindings) committed to the platform's GitOps repository.
Everything here is pure: ``kind`` (schema), ``validation`` and ``admission`` (rules), ``model``
(parsed values), ``rendering`` (manifests) and ``reconcile`` (binding plans, status). The
controller that performs the plans lives in ``blacktop.wiring.teamnamespaces``.
"""

from . import admission, kind, model, reconcile, rendering, validation
from .kind import FINALIZER
from .model import TeamNamespace, parse_team_namespace
from .validation import TEAM_NAMESPACE

__all__ = [
    "FINALIZER",
    "TEAM_NAMESPACE",
    "TeamNamespace",
    "admission",
    "kind",
    "model",
    "parse_team_namespace",
    "reconcile",
    "rendering",
    "validation",
]
