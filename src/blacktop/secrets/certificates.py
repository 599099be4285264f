"""ESO's PEM and certificate template functions: ``filterPEM``, ``filterCertChain``, ``certSANs``.

Users keep whole bundles (key + leaf + intermediates + root) in one remote value and split them in
templates. Behaviour follows ESO's engine v2: ``filterPEM`` keeps blocks whose type matches
case-insensitively and refuses input that holds no PEM at all; ``filterCertChain`` orders the
bundle leaf → intermediates → root by matching Authority and Subject Key Identifiers, then returns
the leaf (if it is not self-signed), the intermediates, or the root (if self-signed);
``certSANs`` lists a certificate's subject alternative names (DNS names, IP addresses, URIs, then
e-mail addresses, the field order of Go's ``x509.Certificate``).
"""

from __future__ import annotations

import base64
import re
import textwrap
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from .errors import TemplateError

_BLOCK = re.compile(r"-----BEGIN ([^-\r\n]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_CERTIFICATE: Final = "CERTIFICATE"


def _pem(block_type: str, der: bytes) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {block_type}-----\n{body}\n-----END {block_type}-----\n"


def _blocks(text: str) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for match in _BLOCK.finditer(text):
        body = "".join(line for line in match.group(2).splitlines() if ":" not in line)
        try:
            out.append((match.group(1), base64.b64decode(body, validate=False)))
        except ValueError as exc:
            raise TemplateError(f"error filtering pem: block {match.group(1)!r} is not valid base64") from exc
    return out


def filter_pem(pem_type: str, text: object) -> str:
    """Keep the PEM blocks of ``pem_type`` (compared case-insensitively), re-encoded."""
    data = str(text)
    blocks = _blocks(data)
    if not blocks and data.strip():
        raise TemplateError("error filtering pem: found junk")
    return "".join(_pem(t, der) for t, der in blocks if t.casefold() == pem_type.casefold())


def _key_ids(cert: x509.Certificate) -> tuple[bytes | None, bytes | None]:
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        aki = None
    try:
        ski: bytes | None = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        ski = None
    return aki, ski


def _is_root(cert: x509.Certificate) -> bool:
    aki, ski = _key_ids(cert)
    return aki is None or aki == ski


def _ordered_chain(text: str) -> list[x509.Certificate]:
    certs = [x509.load_der_x509_certificate(der) for t, der in _blocks(text) if t == _CERTIFICATE]
    if not certs:
        raise TemplateError("filterCertChain: no certificate found in input")
    parent: dict[int, int] = {}
    for i, cert in enumerate(certs):
        aki, _ = _key_ids(cert)
        for j, other in enumerate(certs):
            if i != j and aki is not None and aki == _key_ids(other)[1]:
                parent[i] = j
                break
    leaves = [i for i in range(len(certs)) if i not in parent.values()]
    if len(leaves) != 1:
        raise TemplateError("filterCertChain: found multiple leaf or disjunct certificates")
    chain, seen, node = [], set(), leaves[0]
    while True:
        if node in seen:
            raise TemplateError("filterCertChain: constructing chain resulted in cycle")
        seen.add(node)
        chain.append(certs[node])
        if node not in parent:
            return chain
        node = parent[node]


def filter_cert_chain(cert_type: str, text: object) -> str:
    """Select ``leaf``, ``intermediate`` or ``root`` from a certificate bundle, as PEM."""
    chain = _ordered_chain(str(text))
    if cert_type == "leaf":
        return "" if _is_root(chain[0]) else _pem(_CERTIFICATE, chain[0].public_bytes(Encoding.DER))
    if cert_type == "intermediate":
        out = []
        for cert in chain[1:]:
            if _is_root(cert):
                break
            out.append(_pem(_CERTIFICATE, cert.public_bytes(Encoding.DER)))
        return "".join(out)
    if cert_type == "root":
        return _pem(_CERTIFICATE, chain[-1].public_bytes(Encoding.DER)) if _is_root(chain[-1]) else ""
    return ""


def cert_sans(text: object) -> list[str]:
    """Subject alternative names of the first certificate in ``text``."""
    certs = [der for t, der in _blocks(str(text)) if t == _CERTIFICATE]
    if not certs:
        raise TemplateError("certSANs: no certificate found in input")
    cert = x509.load_der_x509_certificate(certs[0])
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [
        *san.get_values_for_type(x509.DNSName),
        *(str(ip) for ip in san.get_values_for_type(x509.IPAddress)),
        *san.get_values_for_type(x509.UniformResourceIdentifier),
        *san.get_values_for_type(x509.RFC822Name),
    ]
