"""Go ``text/template`` rendering as External Secrets' template engine v2 does it.

Rendering uses `gotpl` (a pure-Python Go ``text/template``, see specs/dependencies.md §11) with the
Sprig v3 function map, minus the functions ESO removes (``env``, ``expandenv``, ``getHostByName``),
plus the ESO additions blacktop implements (``toYaml``, ``fromYaml``, ``filterPEM``,
``filterCertChain``, ``certSANs``). ESO runs with
``missingkey=error``, so a template naming a key the provider did not return fails, as here.

ESO functions blacktop does not implement yet (PKCS#12, JWK and RSA helpers) are
registered as functions that fail with a message naming them, so a template using one is refused
with a clear error instead of a bare "function not defined". The Go engine is the oracle: the test
suite differential-tests this module against ``gotp`` (the real Go engine) on the ESO docs' templates.

Non-deterministic Sprig functions (``now``, ``randAlphaNum``, ``uuidv4``...) take their clock and
entropy from the caller, so domain code stays reproducible in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import gotpl
import yaml
from gotpl.funcs.sprig.registry import text_func_map

from . import certificates
from .crypto import Entropy
from .errors import TemplateError

REMOVED_BY_ESO: Final = frozenset({"env", "expandenv", "getHostByName"})
NOT_IMPLEMENTED: Final = frozenset(
    {
        "pkcs12key",
        "pkcs12keyPass",
        "pkcs12cert",
        "pkcs12certPass",
        "pemToPkcs12",
        "pemToPkcs12Pass",
        "fullPemToPkcs12",
        "fullPemToPkcs12Pass",
        "pemTruststoreToPKCS12",
        "pemTruststoreToPKCS12Pass",
        "jwkPublicKeyPem",
        "jwkPrivateKeyPem",
        "rsaDecrypt",
    }
)


def _to_yaml(value: object) -> str:
    """ESO's ``toYaml``: sigs.k8s.io/yaml marshalling (sorted keys, block style)."""
    return yaml.safe_dump(value, sort_keys=True, default_flow_style=False, allow_unicode=True)


def _from_yaml(text: object) -> object:
    """ESO's ``fromYaml``: parse a YAML string into maps and lists."""
    return yaml.safe_load(str(text))


def _not_implemented(name: str) -> Callable[..., object]:
    def refuse(*_args: object) -> object:
        raise TemplateError(
            f"template function {name!r} of ESO engine v2 is not supported by blacktop yet; "
            "pre-process the value before storing it, or avoid the function"
        )

    return refuse


def eso_functions(*, clock: Callable[[], datetime], entropy: Entropy) -> dict[str, Callable[..., object]]:
    """The function map of ESO's engine v2 as far as blacktop implements it."""
    functions = text_func_map(clock=clock, entropy=entropy)
    for name in REMOVED_BY_ESO:
        functions.pop(name, None)
    functions.update(
        {
            "toYaml": _to_yaml,
            "fromYaml": _from_yaml,
            "filterPEM": certificates.filter_pem,
            "filterCertChain": certificates.filter_cert_chain,
            "certSANs": certificates.cert_sans,
        }
    )
    functions.update({name: _not_implemented(name) for name in NOT_IMPLEMENTED})
    return functions


@dataclass(frozen=True, slots=True)
class TemplateEngine:
    """Compiles and renders ESO v2 templates; build it once, render many times."""

    clock: Callable[[], datetime]
    entropy: Entropy
    delimiters: tuple[str, str] = ("{{", "}}")
    _env: gotpl.Environment = field(init=False, repr=False)

    def __post_init__(self) -> None:
        env = gotpl.Environment(
            functions=eso_functions(clock=self.clock, entropy=self.entropy),
            missing_key="error",
            delimiters=self.delimiters,
        )
        object.__setattr__(self, "_env", env)

    def render(self, source: str, data: Mapping[str, Any], *, name: str = "template") -> str:
        """Render ``source`` with ``data`` as dot; ``name`` (e.g. ``data.DATABASE_URL``) labels errors."""
        try:
            template = self._env.from_string(source, name=name)
        except gotpl.TemplateSyntaxError as exc:
            raise TemplateError(f"template {name!r} does not parse: {_explain(str(exc))}") from exc
        try:
            return template.render(dict(data))
        except TemplateError as exc:
            raise TemplateError(f"template {name!r} failed: {exc}") from exc
        except gotpl.TemplateError as exc:
            raise TemplateError(f"template {name!r} failed: {_explain(str(exc))}") from exc


def _explain(message: str) -> str:
    """Add the fix to gotpl's message for the two errors users hit most."""
    if "not defined" in message:
        return message + " (unknown function; ESO engine v2 offers Go builtins and Sprig v3)"
    if "missing key" in message:
        return message + " (the provider returned no such key; check data[].secretKey or dataFrom)"
    return message
