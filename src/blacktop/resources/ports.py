"""What the claim lifecycle needs from providers and the secret store, stated as Protocols.

The claim and composite controllers (``resources.reconcile``) render composed resources and
decide what must exist; they do not know how a cloud managed resource reaches a real Crossplane,
nor where connection secrets are kept. Three seams, each implemented elsewhere and handed in by
the composition root (``wiring/resources.py``):

* :class:`ExternalResourcePublisher` receives the composed resources whose kind the platform
  does not serve (``rds.aws.upbound.io`` Instance, ``ec2.aws.upbound.io`` SecurityGroup, ...) and
  writes them where an external reconciler acts on them (the GitOps repository). It reports, per
  resource, what it knows about readiness: usually "owned by an external reconciler".
* :class:`ConnectionDetailsReader` returns the connection details a composed resource published
  (a local ``PostgresDatabase`` writes its password through the secret store), so composition
  ``connectionDetails`` with ``fromConnectionSecretKey`` can be resolved.
* :class:`ConnectionSecretWriter` stores the claim's connection secret in the secret store at a
  path derived from the claim (:func:`connection_secret_path`), readable by the claim's team.

Kinds the platform does serve (the local provider's ``PostgresDatabase``, ``MySQLDatabase``,
``RedisUser``, ...) are not handed over: they are created as platform resources and their own
controllers act on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

__all__ = [
    "CONNECTION_SECRET_SEGMENT",
    "CompositeRef",
    "ConnectionDetailsReader",
    "ConnectionSecretWriter",
    "ExternalObservation",
    "ExternalResourcePublisher",
    "connection_secret_path",
]

CONNECTION_SECRET_SEGMENT: Final = "connections"
"""Claim connection secrets live at ``<namespace>/connections/<secret-name>`` in the secret store."""


@dataclass(frozen=True, slots=True)
class CompositeRef:
    """The composite resource (and its claim, when it has one) that owns composed resources."""

    api_version: str
    kind: str
    name: str
    uid: str = ""
    claim_namespace: str | None = None
    claim_name: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalObservation:
    """What a publisher knows about one composed resource it was handed.

    ``resource_name`` is the composition template name (the
    ``crossplane.io/composition-resource-name`` annotation). ``ready`` is None when readiness is
    owned by an external reconciler and unknown here; ``location`` says where the manifest went
    (e.g. ``gitops:platform/gitops@<commit>:infrastructure/orders-team/orders-db/rds-instance.yaml``).
    """

    resource_name: str
    ready: bool | None
    reason: str
    message: str = ""
    location: str = ""
    observed: Mapping[str, Any] | None = None
    """The resource as last observed (with status), when the publisher can read one back."""


class ExternalResourcePublisher(Protocol):
    """Publishes composed resources of kinds the platform does not serve, for an external reconciler."""

    async def publish(
        self, owner: CompositeRef, resources: Sequence[Mapping[str, Any]]
    ) -> Sequence[ExternalObservation]:
        """Make ``resources`` the complete set published for ``owner`` (idempotent).

        Resources published earlier for ``owner`` and absent now are withdrawn. Raises a kernel
        error (``InputError`` for a manifest failing its CRD schema, ``UnavailableError`` when the
        repository cannot be written) with a message fit for the claim's conditions.
        """
        ...

    async def withdraw(self, owner: CompositeRef) -> None:
        """Remove everything published for ``owner``; nothing published is fine."""
        ...


class ConnectionDetailsReader(Protocol):
    """Reads the connection details a composed platform resource published."""

    async def fetch(self, resource: Mapping[str, Any]) -> Mapping[str, bytes] | None:
        """The details of ``resource`` (as stored), or None when it has published none yet."""
        ...


class ConnectionSecretWriter(Protocol):
    """Stores a claim's connection secret in the secret store."""

    async def write(self, *, path: str, data: Mapping[str, bytes], owner: CompositeRef) -> str:
        """Write ``data`` at ``path`` (a new version only when it changed); returns the stored version id."""
        ...

    async def delete(self, *, path: str) -> None:
        """Remove the secret at ``path``; an absent secret is fine."""
        ...


def connection_secret_path(namespace: str, secret_name: str) -> str:
    """The secret-store path of a claim's connection secret: ``<namespace>/connections/<secret-name>``.

    The secret store gives the team owning namespace ``N`` (and ExternalSecrets in ``N``) the paths
    below ``N/``, so the namespace comes first: the claim's team can read its connection secret and
    consume it with an ExternalSecret, and no other team can.
    """
    return f"{namespace}/{CONNECTION_SECRET_SEGMENT}/{secret_name}"
