"""Which namespaces a ClusterExternalSecret stamps into, and which stores an ExternalSecret may use.

ESO scopes cluster-wide kinds with namespace lists, label selectors and (for ClusterSecretStore
conditions) namespace regexes. These rules decide tenancy boundaries, so they live in one pure
module: callers pass the namespaces' labels and get names back. Label selector semantics come from
``blacktop.kernel.selectors``; this module only converts ESO's JSON selector shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from blacktop.kernel.errors import Problem
from blacktop.kernel.selectors import LabelSelector, Operator, Requirement

from . import eso
from .errors import ManifestError, SyncError

_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def selector_from_json(selector: Mapping[str, Any], *, path: str) -> LabelSelector:
    """Convert a Kubernetes ``LabelSelector`` object (matchLabels + matchExpressions)."""
    requirements = [
        Requirement(key=str(k), operator=Operator.EQUALS, values=(str(v),))
        for k, v in sorted((selector.get("matchLabels") or {}).items())
    ]
    problems: list[Problem] = []
    for i, expression in enumerate(selector.get("matchExpressions") or []):
        operator = _OPERATORS.get(str(expression.get("operator")))
        if operator is None:
            problems.append(Problem(path=f"{path}.matchExpressions[{i}].operator", message="unknown operator"))
            continue
        values = tuple(str(v) for v in expression.get("values") or ())
        requirements.append(Requirement(key=str(expression.get("key", "")), operator=operator, values=values))
    if problems:
        raise ManifestError(f"label selector at {path} is invalid", problems=problems)
    return LabelSelector(requirements=tuple(requirements))


def target_namespaces(ces: eso.ClusterExternalSecret, namespaces: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Namespaces (name → labels given) selected by ``namespaces``, ``namespaceSelectors`` (any) or
    the deprecated ``namespaceSelector``; with none of them set, no namespace is selected."""
    spec = ces.spec
    selectors = [
        selector_from_json(s, path=f"spec.namespaceSelectors[{i}]") for i, s in enumerate(spec.namespace_selectors)
    ]
    if spec.namespace_selector is not None:
        selectors.append(selector_from_json(spec.namespace_selector, path="spec.namespaceSelector"))
    chosen = {n for n in spec.namespaces if n in namespaces}
    chosen |= {n for n, labels in namespaces.items() if any(s.matches(labels) for s in selectors)}
    return sorted(chosen)


def stamp_external_secrets(
    ces: eso.ClusterExternalSecret, namespaces: Mapping[str, Mapping[str, str]]
) -> list[eso.ExternalSecret]:
    """The ExternalSecrets a ClusterExternalSecret creates, one per selected namespace."""
    name = ces.spec.external_secret_name or ces.metadata.name
    meta = ces.spec.external_secret_metadata
    return [
        eso.ExternalSecret(
            api_version=ces.api_version,
            kind="ExternalSecret",
            metadata=eso.ObjectMeta(
                name=name, namespace=namespace, labels=dict(meta.labels), annotations=dict(meta.annotations)
            ),
            spec=ces.spec.external_secret_spec,
        )
        for namespace in target_namespaces(ces, namespaces)
    ]


def is_store_usable_from(store: eso.SecretStore, namespace: str, namespace_labels: Mapping[str, str]) -> bool:
    """A SecretStore serves its own namespace; a ClusterSecretStore every namespace its conditions allow."""
    if store.kind == "SecretStore":
        return store.metadata.namespace in (None, namespace)
    if not store.spec.conditions:
        return True
    for i, condition in enumerate(store.spec.conditions):
        selector = condition.get("namespaceSelector")
        if selector is not None and selector_from_json(selector, path=f"spec.conditions[{i}]").matches(
            namespace_labels
        ):
            return True
        if namespace in (condition.get("namespaces") or ()):
            return True
        if any(re.search(p, namespace) for p in condition.get("namespaceRegexes") or ()):
            return True
    return False


def resolve_store(
    es: eso.ExternalSecret,
    stores: Mapping[tuple[str, str | None, str], eso.SecretStore],
    *,
    namespace_labels: Mapping[str, str],
) -> eso.SecretStore:
    """Find the store an ExternalSecret references, keyed ``(kind, namespace or None, name)``."""
    ref = es.spec.secret_store_ref
    namespace = es.metadata.namespace or "default"
    key = (ref.kind, namespace if ref.kind == "SecretStore" else None, ref.name)
    store = stores.get(key)
    if store is None:
        raise SyncError(f"ExternalSecret {namespace}/{es.metadata.name}: could not get {ref.kind} {ref.name!r}")
    if not is_store_usable_from(store, namespace, namespace_labels):
        raise SyncError(
            f"ExternalSecret {namespace}/{es.metadata.name}: ClusterSecretStore {ref.name!r} "
            f"does not allow namespace {namespace!r} (see its spec.conditions)"
        )
    return store
