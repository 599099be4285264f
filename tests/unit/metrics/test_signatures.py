"""Webhook signatures and shared secrets: GitHub's documented vector, every refusal, and what messages hide.

Test design notes: the known-answer case is the one GitHub publishes in "Validating webhook
deliveries" (secret ``It's a Secret to Everybody``, body ``Hello, World!``). Refusals are a table of
(header, body) against one secret; each must raise ``SignatureError`` (HTTP 401) with a message that
names the header and never contains the secret or the expected signature. The property tests sign
arbitrary bodies and check that the signature verifies and that any change of the body does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.errors import InputError, UnauthenticatedError, status_code
from blacktop.metrics import service, signatures

GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_BODY = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
SECRET = "s3cr3t-webhook-value-0123456789"
BODY = b'{"action": "completed", "workflow_run": {"id": 1}}'


def test_githubs_documented_vector() -> None:
    assert signatures.compute_github_signature(GITHUB_BODY, GITHUB_SECRET) == GITHUB_SIGNATURE
    signatures.verify_github_signature(GITHUB_BODY, GITHUB_SIGNATURE, secret=GITHUB_SECRET, namespace="payments")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(GITHUB_SIGNATURE.upper().replace("SHA256=", "sha256="), id="uppercase-hex"),
        pytest.param(f"  {GITHUB_SIGNATURE} ", id="surrounding-space"),
    ],
)
def test_harmless_variants_of_a_valid_signature_verify(header: str) -> None:
    signatures.verify_github_signature(GITHUB_BODY, header, secret=GITHUB_SECRET, namespace="payments")


@dataclass(frozen=True)
class Refusal:
    header: str | None
    body: bytes
    says: str


GOOD = signatures.compute_github_signature(BODY, SECRET)
GITHUB_REFUSALS = {
    "missing-header": Refusal(None, BODY, "has no X-Hub-Signature-256 header"),
    "empty-header": Refusal("", BODY, "has no X-Hub-Signature-256 header"),
    "sha1-signature": Refusal("sha1=" + "0" * 40, BODY, "must read 'sha256=<hex"),
    "bare-hex": Refusal(GOOD.removeprefix("sha256="), BODY, "must read 'sha256=<hex"),
    "tampered-body": Refusal(GOOD, BODY.replace(b"1", b"2"), "does not match the body"),
    "other-secret": Refusal(signatures.compute_github_signature(BODY, "another"), BODY, "does not match the body"),
    "truncated": Refusal(GOOD[:-2], BODY, "does not match the body"),
    "non-ascii": Refusal("sha256=é" + GOOD[8:], BODY, "does not match the body"),
    "whitespace-inside-body": Refusal(GOOD, BODY + b" ", "does not match the body"),
}


@pytest.mark.parametrize("case", GITHUB_REFUSALS.values(), ids=GITHUB_REFUSALS.keys())
def test_github_deliveries_without_a_valid_signature_are_refused(case: Refusal) -> None:
    with pytest.raises(signatures.SignatureError) as caught:
        signatures.verify_github_signature(case.body, case.header, secret=SECRET, namespace="payments")
    message = str(caught.value)
    assert case.says in message
    assert "namespace 'payments'" in message
    assert SECRET not in message and GOOD.removeprefix("sha256=") not in message
    assert isinstance(caught.value, UnauthenticatedError) and status_code(caught.value) == 401


SHARED_REFUSALS = {
    "missing-header": Refusal(None, BODY, "has no X-Blacktop-Webhook-Secret header"),
    "blank-header": Refusal("  ", BODY, "has no X-Blacktop-Webhook-Secret header"),
    "wrong-secret": Refusal("guess", BODY, "does not match the webhook secret at secret/payments/webhooks/argocd"),
    "prefix-of-secret": Refusal(SECRET[:-1], BODY, "does not match"),
    "secret-and-more": Refusal(SECRET + "x", BODY, "does not match"),
}


@pytest.mark.parametrize("case", SHARED_REFUSALS.values(), ids=SHARED_REFUSALS.keys())
def test_argocd_deliveries_without_the_shared_secret_are_refused(case: Refusal) -> None:
    with pytest.raises(signatures.SignatureError) as caught:
        signatures.verify_shared_secret(case.header, secret=SECRET, namespace="payments")
    assert case.says in str(caught.value)
    assert SECRET not in str(caught.value)


def test_the_shared_secret_verifies_whatever_the_body() -> None:
    signatures.verify_delivery("argocd", b"anything", SECRET, secret=SECRET, namespace="payments")
    signatures.verify_delivery("argocd", b"anything", f" {SECRET}\t", secret=f"{SECRET}\n", namespace="payments")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="no-key"),
        pytest.param({"token": SECRET}, id="other-key"),
        pytest.param({"secret": ""}, id="empty-value"),
    ],
)
def test_a_configured_path_without_a_usable_secret_refuses_deliveries(data: dict[str, str]) -> None:
    with pytest.raises(signatures.SignatureError) as caught:
        signatures.secret_from(data, namespace="payments", source="github")
    assert "secret/payments/webhooks/github has no readable non-empty key 'secret'" in str(caught.value)
    assert SECRET not in str(caught.value)


@given(body=st.binary(max_size=2048), secret=st.text(min_size=1, max_size=64))
def test_any_signed_body_verifies(body: bytes, secret: str) -> None:
    signed = signatures.compute_github_signature(body, secret)
    signatures.verify_github_signature(body, signed, secret=secret, namespace="n")


@given(body=st.binary(min_size=1, max_size=512), at=st.integers(min_value=0), flip=st.integers(1, 255))
def test_changing_any_byte_breaks_the_signature(body: bytes, at: int, flip: int) -> None:
    signed = signatures.compute_github_signature(body, SECRET)
    changed = bytearray(body)
    changed[at % len(body)] ^= flip
    with pytest.raises(signatures.SignatureError):
        signatures.verify_github_signature(bytes(changed), signed, secret=SECRET, namespace="n")


class FakeSecrets:
    """``WebhookSecrets`` over a dict of (namespace, source) → stored values; remembers every read."""

    def __init__(self, stored: Mapping[tuple[str, str], Mapping[str, str]]) -> None:
        self.stored = stored
        self.reads: list[tuple[str, str, str]] = []

    async def fetch_secret(self, namespace: str, source: str, *, request_id: str) -> Mapping[str, str] | None:
        self.reads.append((namespace, source, request_id))
        return self.stored.get((namespace, source))


class Unused:
    """Ports the verification never touches."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"verification used {name}")


def metrics_service(secrets: FakeSecrets | None) -> service.MetricsService:
    return service.MetricsService(records=Unused(), owners=Unused(), writer=Unused(), clock=Unused(), secrets=secrets)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Delivery:
    namespace: str
    source: str
    proof: str | None
    checked: bool | None
    """True: a secret was checked; False: none configured; None: refused."""


STORED = {("payments", "github"): {"secret": SECRET}, ("payments", "argocd"): {"secret": SECRET}}
DELIVERIES = {
    "github-signed": Delivery("payments", "github", GOOD, True),
    "github-unsigned": Delivery("payments", "github", None, None),
    "github-bad-signature": Delivery("payments", "github", "sha256=" + "0" * 64, None),
    "argocd-with-secret": Delivery("payments", "argocd", SECRET, True),
    "argocd-without-header": Delivery("payments", "argocd", None, None),
    "no-secret-in-namespace": Delivery("search", "github", None, False),
    "another-namespaces-secret-does-not-count": Delivery("search", "github", GOOD, False),
}


@pytest.mark.parametrize("case", DELIVERIES.values(), ids=DELIVERIES.keys())
async def test_verify_delivery_checks_the_namespaces_own_secret(case: Delivery) -> None:
    secrets = FakeSecrets(STORED)
    verify = metrics_service(secrets).verify_delivery(
        namespace=case.namespace, source=case.source, body=BODY, proof=case.proof, request_id="req-1"
    )
    if case.checked is None:
        with pytest.raises(signatures.SignatureError):
            await verify
    else:
        assert await verify is case.checked
    assert secrets.reads == [(case.namespace, case.source, "req-1")]


async def test_an_unknown_source_is_refused_before_any_secret_is_read() -> None:
    secrets = FakeSecrets(STORED)
    with pytest.raises(InputError) as caught:
        await metrics_service(secrets).verify_delivery(
            namespace="payments", source="gitlab", body=BODY, proof=None, request_id="r"
        )
    assert [p.path for p in caught.value.problems] == ["source"]
    assert secrets.reads == []


async def test_without_a_secret_store_deliveries_are_not_checked() -> None:
    checked = await metrics_service(None).verify_delivery(
        namespace="payments", source="github", body=BODY, proof=None, request_id="r"
    )
    assert checked is False


def test_every_source_has_a_proof_header_and_a_path() -> None:
    assert set(signatures.HEADERS) == set(service.SOURCES)
    assert signatures.secret_path("payments", "github") == "secret/data/payments/webhooks/github"
