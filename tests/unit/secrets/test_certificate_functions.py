"""ESO's certificate template functions on a real chain (root CA → intermediate → leaf) built with
``cryptography``: filterPEM, filterCertChain leaf/intermediate/root, certSANs, and the docs
snippet's template (``certsans-template-v2-external-secret``) rendered end to end.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from blacktop.secrets.errors import TemplateError
from blacktop.secrets.templating import TemplateEngine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ENGINE = TemplateEngine(clock=lambda: T0, entropy=os.urandom)


def issue(
    name: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey] | None, *, ca: bool
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])]) if issuer else subject
    signer = issuer[1] if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0)
        .not_valid_after(T0 + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("pay.example.com"),
                    x509.DNSName("api.pay.example.com"),
                    x509.IPAddress(ipaddress.ip_address("10.0.0.7")),
                ]
            ),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def chain() -> dict[str, str]:
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = issue("root", root_key, None, ca=True)
    mid = issue("mid", mid_key, ("root", root_key), ca=True)
    leaf = issue("leaf", leaf_key, ("mid", mid_key), ca=False)
    key = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    # Bundle deliberately out of order, with the key in the middle.
    return {
        "root": pem(root),
        "mid": pem(mid),
        "leaf": pem(leaf),
        "key": key,
        "bundle": pem(mid) + key + pem(root) + pem(leaf),
    }


CASES = {
    "filter-pem-certificates": ('{{ .b | filterPEM "CERTIFICATE" }}', ["mid", "root", "leaf"]),
    "filter-pem-is-case-insensitive": ('{{ .b | filterPEM "private key" }}', ["key"]),
    "leaf": ('{{ .b | filterPEM "CERTIFICATE" | filterCertChain "leaf" }}', ["leaf"]),
    "intermediate": ('{{ .b | filterPEM "CERTIFICATE" | filterCertChain "intermediate" }}', ["mid"]),
    "root": ('{{ .b | filterPEM "CERTIFICATE" | filterCertChain "root" }}', ["root"]),
}


@pytest.mark.parametrize(("source", "parts"), CASES.values(), ids=CASES.keys())
def test_pem_functions_select_blocks(chain: dict[str, str], source: str, parts: list[str]) -> None:
    assert ENGINE.render(source, {"b": chain["bundle"]}) == "".join(chain[p] for p in parts)


def test_docs_snippet_cert_sans_template(chain: dict[str, str]) -> None:
    base = '.certificate | filterPEM "CERTIFICATE" | filterCertChain "leaf" | certSANs'
    data = {"certificate": chain["bundle"]}
    assert ENGINE.render("{{ " + base + ' | join "," }}', data) == "pay.example.com,api.pay.example.com,10.0.0.7"
    assert ENGINE.render("{{ index (" + base + ") 0 }}", data) == "pay.example.com"
    assert ENGINE.render("{{ " + base + " | toJson }}", data) == '["pay.example.com","api.pay.example.com","10.0.0.7"]'


def test_leaf_of_a_lone_root_is_empty(chain: dict[str, str]) -> None:
    assert ENGINE.render('{{ .b | filterCertChain "leaf" }}', {"b": chain["root"]}) == ""


def test_junk_is_refused() -> None:
    with pytest.raises(TemplateError, match="found junk"):
        ENGINE.render('{{ .b | filterPEM "CERTIFICATE" }}', {"b": "not a pem"})
