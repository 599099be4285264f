"""Proof that a webhook delivery comes from the sender a team configured: signatures and shared secrets.

The API token says *who* may record deployments; it travels in the webhook URL or a header that many
people and logs see. A webhook secret proves more: that the delivery comes from the team's GitHub
repository or Argo CD, and (for GitHub) that the body was not changed on the way.

* GitHub signs every delivery: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body keyed
  with the webhook secret>`` (GitHub's "Validating webhook deliveries").
* Argo CD's notifications webhook service cannot sign a body, but it sends the headers its service
  config lists, so it proves knowledge of a shared secret in ``X-Blacktop-Webhook-Secret``.

A team configures the secret in the platform's secret store at ``secret/<namespace>/webhooks/<source>``
under the key ``secret``. Checks run over the raw request bytes, before any parsing, and compare in
constant time (``hmac.compare_digest``; the shared secret is compared as digests so its length does
not leak either). Messages name the header, the secret's path and the fix, never the secret, the
expected signature or the value received.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Final

from blacktop.kernel.errors import UnauthenticatedError

GITHUB_SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
"""The header GitHub signs deliveries in."""
SHARED_SECRET_HEADER: Final = "X-Blacktop-Webhook-Secret"
"""The header Argo CD (or any sender that cannot sign) sends the shared secret in."""
SIGNATURE_PREFIX: Final = "sha256="
SECRET_KEY: Final = "secret"
"""The key of the webhook secret in the secret store."""
HEADERS: Final[Mapping[str, str]] = {"github": GITHUB_SIGNATURE_HEADER, "argocd": SHARED_SECRET_HEADER}
"""Which header carries the proof, per webhook source."""


class SignatureError(UnauthenticatedError):
    """A delivery to a namespace with a webhook secret lacks a valid signature or shared secret (HTTP 401)."""


def secret_path(namespace: str, source: str) -> str:
    """Where a namespace's webhook secret for ``source`` lives in the secret store (``secret/data/<ns>/…``)."""
    return f"secret/data/{namespace}/webhooks/{source}"


def display_path(namespace: str, source: str) -> str:
    """The secret's path as people write it (``secret/<ns>/webhooks/<source>``)."""
    return f"secret/{namespace}/webhooks/{source}"


def compute_github_signature(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body`` under ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def secret_from(data: Mapping[str, str], *, namespace: str, source: str) -> str:
    """The usable secret among a stored version's keys; ``SignatureError`` when there is none.

    A configured path without a non-empty ``secret`` key refuses deliveries (fail closed) rather
    than silently turning the check off.
    """
    value = data.get(SECRET_KEY)
    if not isinstance(value, str) or not value:
        raise SignatureError(
            f"the {source} webhook secret at {display_path(namespace, source)} has no readable non-empty "
            f"key {SECRET_KEY!r} (or its current version is deleted), so deliveries to namespace {namespace!r} "
            f"are refused; write the value configured in the sender under that key as a new version"
        )
    return value


def verify_github_signature(body: bytes, header: str | None, *, secret: str, namespace: str) -> None:
    """Raise ``SignatureError`` unless ``header`` is GitHub's signature of ``body`` under ``secret``."""
    where = display_path(namespace, "github")
    if header is None or not header.strip():
        raise SignatureError(
            f"the GitHub delivery to namespace {namespace!r} has no {GITHUB_SIGNATURE_HEADER} header, and the "
            f"namespace requires one (a webhook secret is configured at {where}); set the same secret in the "
            f"GitHub webhook's settings"
        )
    received = header.strip()
    if not received.startswith(SIGNATURE_PREFIX):
        raise SignatureError(
            f"the {GITHUB_SIGNATURE_HEADER} header of the GitHub delivery to namespace {namespace!r} must read "
            f"'{SIGNATURE_PREFIX}<hex HMAC-SHA256 of the body>'"
        )
    expected = compute_github_signature(body, secret)
    normalised = SIGNATURE_PREFIX + received[len(SIGNATURE_PREFIX) :].lower()
    if not hmac.compare_digest(normalised.encode("utf-8"), expected.encode("ascii")):
        raise SignatureError(
            f"the {GITHUB_SIGNATURE_HEADER} signature of the GitHub delivery to namespace {namespace!r} does not "
            f"match the body under the webhook secret at {where}; check that GitHub's webhook secret is the "
            f"stored one and that nothing rewrites the body on the way"
        )


def verify_shared_secret(header: str | None, *, secret: str, namespace: str, source: str = "argocd") -> None:
    """Raise ``SignatureError`` unless ``header`` holds the shared ``secret``."""
    where = display_path(namespace, source)
    if header is None or not header.strip():
        raise SignatureError(
            f"the {source} delivery to namespace {namespace!r} has no {SHARED_SECRET_HEADER} header, and the "
            f"namespace requires one (a webhook secret is configured at {where}); add the header to the "
            f"webhook service's headers"
        )
    received = hashlib.sha256(header.strip().encode("utf-8")).digest()
    wanted = hashlib.sha256(secret.strip().encode("utf-8")).digest()
    if not hmac.compare_digest(received, wanted):
        raise SignatureError(
            f"the {SHARED_SECRET_HEADER} header of the {source} delivery to namespace {namespace!r} does not "
            f"match the webhook secret at {where}"
        )


def verify_delivery(source: str, body: bytes, proof: str | None, *, secret: str, namespace: str) -> None:
    """Check ``proof`` (the value of ``HEADERS[source]``) for a delivery of ``source``; ``SignatureError`` if bad."""
    if source == "github":
        verify_github_signature(body, proof, secret=secret, namespace=namespace)
    else:
        verify_shared_secret(proof, secret=secret, namespace=namespace, source=source)
