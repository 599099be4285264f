"""External Secrets Operator kinds, parsed and validated as blacktop accepts them.

Users already write ESO manifests, so blacktop reads them unchanged: ``ExternalSecret``,
``ClusterExternalSecret``, ``SecretStore`` and ``ClusterSecretStore`` in ``external-secrets.io``
``v1`` and ``v1beta1`` (the same shape for the fields blacktop uses), and the ``Password``
generator in ``generators.external-secrets.io/v1alpha1``. Field names and defaults follow ESO's
``apis/externalsecrets/v1/*_types.go``. Like the Kubernetes API server pruning a structural schema,
fields blacktop does not model are ignored, not refused.

Stores may use two providers: ``blacktop`` (the embedded store; not an ESO provider, so only
blacktop accepts it) and ``vault`` (HashiCorp Vault KV). Any other provider is refused with
:class:`UnsupportedProviderError` naming it. Validation collects every problem before raising.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from blacktop.kernel.errors import Problem

from .errors import ManifestError, UnsupportedProviderError

GROUP: Final = "external-secrets.io"
API_VERSIONS: Final = (f"{GROUP}/v1", f"{GROUP}/v1beta1")
GENERATOR_API_VERSION: Final = "generators.external-secrets.io/v1alpha1"
SUPPORTED_PROVIDERS: Final = ("blacktop", "vault")
SUPPORTED_GENERATORS: Final = ("Password",)
DEFAULT_REFRESH_INTERVAL: Final = timedelta(hours=1)
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS: Final = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> timedelta:
    """Parse a Go ``time.Duration`` string (``1h0m0s``, ``5m``, ``0``, ``1.5h``)."""
    raw = text.strip()
    sign = -1 if raw.startswith("-") else 1
    body = raw.lstrip("+-")
    if body == "0":
        return timedelta(0)
    pos, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(body):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise ValueError(f"{text!r} is not a Go duration such as '1h', '5m30s' or '0'")
    return timedelta(seconds=sign * seconds)


class _Spec(BaseModel):
    """Base for ESO spec fragments: camelCase aliases, unknown fields ignored like a pruning API server."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class ObjectMeta(_Spec):
    """The metadata blacktop reads."""

    name: str = Field(min_length=1)
    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    generation: int = 1


class StoreRef(_Spec):
    """``secretStoreRef``: which store to read from."""

    name: str = ""
    kind: Literal["SecretStore", "ClusterSecretStore"] = "SecretStore"


class GeneratorRef(_Spec):
    """``sourceRef.generatorRef``: a generator producing values instead of a store."""

    api_version: str = GENERATOR_API_VERSION
    kind: str
    name: str


class SourceRef(_Spec):
    """Per-entry override of the store, or a generator."""

    store_ref: StoreRef | None = None
    generator_ref: GeneratorRef | None = None


Decoding = Literal["None", "Base64", "Base64URL", "Auto"]


class RemoteRef(_Spec):
    """``data[].remoteRef`` and ``dataFrom[].extract``: one remote secret, optionally one property."""

    key: str = Field(min_length=1)
    property: str = ""
    version: str = ""
    metadata_policy: Literal["None", "Fetch"] = "None"
    conversion_strategy: Literal["Default", "Unicode"] = "Default"
    decoding_strategy: Decoding = "None"
    null_byte_policy: Literal["Ignore", "Fail"] = "Ignore"


class DataEntry(_Spec):
    """``data[]``: one target key from one remote value."""

    secret_key: str
    remote_ref: RemoteRef
    source_ref: SourceRef | None = None

    @field_validator("secret_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        if not _SECRET_KEY.match(value):
            raise ValueError(f"secretKey {value!r} must match {_SECRET_KEY.pattern}")
        return value


class FindName(_Spec):
    """``find.name``."""

    regexp: str = ""


class Find(_Spec):
    """``dataFrom[].find``: many secrets under a path, selected by name regexp or tags."""

    path: str | None = None
    name: FindName | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    conversion_strategy: Literal["Default", "Unicode"] = "Default"
    decoding_strategy: Decoding = "None"


class RewriteRegexp(_Spec):
    """``rewrite[].regexp``: ReplaceAll on keys."""

    source: str
    target: str


class RewriteTransform(_Spec):
    """``rewrite[].transform``: a Go template with ``.value`` bound to the key."""

    template: str


class Rewrite(_Spec):
    """``dataFrom[].rewrite[]``."""

    regexp: RewriteRegexp | None = None
    transform: RewriteTransform | None = None
    merge: dict[str, Any] | None = None


class DataFromEntry(_Spec):
    """``dataFrom[]``: exactly one of extract, find or sourceRef.generatorRef."""

    extract: RemoteRef | None = None
    find: Find | None = None
    rewrite: tuple[Rewrite, ...] = ()
    source_ref: SourceRef | None = None


class TemplateRefItem(_Spec):
    """``templateFrom[].configMap.items[]``."""

    key: str
    template_as: Literal["Values", "KeysAndValues"] = "Values"


class TemplateRef(_Spec):
    """``templateFrom[].configMap`` / ``.secret``."""

    name: str
    items: tuple[TemplateRefItem, ...] = ()


class TemplateFrom(_Spec):
    """``template.templateFrom[]``."""

    config_map: TemplateRef | None = None
    secret: TemplateRef | None = None
    literal: str | None = None
    target: str = "Data"


class TemplateMetadata(_Spec):
    """``template.metadata``: label and annotation templates."""

    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Template(_Spec):
    """``target.template``."""

    type: str = "Opaque"
    engine_version: Literal["v2"] = "v2"
    merge_policy: Literal["Replace", "Merge"] = "Replace"
    metadata: TemplateMetadata = Field(default_factory=TemplateMetadata)
    data: dict[str, str] = Field(default_factory=dict)
    template_from: tuple[TemplateFrom, ...] = ()


class Target(_Spec):
    """``spec.target``: the secret to create or update."""

    name: str = ""
    creation_policy: Literal["Owner", "Orphan", "Merge", "None", "CreateOrMerge"] = "Owner"
    deletion_policy: Literal["Retain", "Delete", "Merge"] = "Retain"
    immutable: bool = False
    template: Template | None = None


class ExternalSecretSpec(_Spec):
    """``ExternalSecret.spec``."""

    secret_store_ref: StoreRef = Field(default_factory=StoreRef)
    target: Target = Field(default_factory=Target)
    refresh_interval: str = "1h"
    refresh_policy: Literal["Periodic", "CreatedOnce", "OnChange"] = "Periodic"
    data: tuple[DataEntry, ...] = ()
    data_from: tuple[DataFromEntry, ...] = ()

    @field_validator("refresh_interval")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_go_duration(value)
        return value

    @property
    def interval(self) -> timedelta:
        """``refreshInterval`` as a timedelta; zero means "sync once"."""
        return parse_go_duration(self.refresh_interval)


class ExternalSecret(_Spec):
    """An ``ExternalSecret``: which remote values become which keys of a target secret."""

    api_version: str
    kind: Literal["ExternalSecret"]
    metadata: ObjectMeta
    spec: ExternalSecretSpec

    @property
    def target_name(self) -> str:
        """``spec.target.name``, defaulting to the ExternalSecret's own name."""
        return self.spec.target.name or self.metadata.name


class ClusterExternalSecretSpec(_Spec):
    """``ClusterExternalSecret.spec``: an ExternalSecret stamped into selected namespaces."""

    external_secret_spec: ExternalSecretSpec
    external_secret_name: str = ""
    external_secret_metadata: TemplateMetadata = Field(default_factory=TemplateMetadata)
    namespaces: tuple[str, ...] = ()
    namespace_selectors: tuple[dict[str, Any], ...] = ()
    namespace_selector: dict[str, Any] | None = None
    refresh_time: str = "1m"


class ClusterExternalSecret(_Spec):
    """A ``ClusterExternalSecret``."""

    api_version: str
    kind: Literal["ClusterExternalSecret"]
    metadata: ObjectMeta
    spec: ClusterExternalSecretSpec


class BlacktopProvider(_Spec):
    """``provider.blacktop``: the embedded store; ``mount`` is the KV mount read from."""

    mount: str = "secret"


class VaultProvider(_Spec):
    """``provider.vault``: HashiCorp Vault KV (v1 or v2)."""

    server: str
    path: str | None = None
    version: Literal["v1", "v2"] = "v2"
    namespace: str | None = None
    auth: dict[str, Any] = Field(default_factory=dict)

    @property
    def auth_method(self) -> str | None:
        """The auth block's method name (``tokenSecretRef``, ``appRole``, ``kubernetes``...)."""
        return next(iter(self.auth), None)


class Provider(_Spec):
    """``spec.provider`` restricted to the providers blacktop serves."""

    blacktop: BlacktopProvider | None = None
    vault: VaultProvider | None = None

    @property
    def name(self) -> str:
        """The provider's key in the manifest."""
        return "blacktop" if self.blacktop is not None else "vault"


class SecretStoreSpec(_Spec):
    """``SecretStore.spec`` / ``ClusterSecretStore.spec``."""

    provider: Provider
    controller: str = ""
    refresh_interval: int | str = 0
    conditions: tuple[dict[str, Any], ...] = ()


class SecretStore(_Spec):
    """A ``SecretStore`` or ``ClusterSecretStore``."""

    api_version: str
    kind: Literal["SecretStore", "ClusterSecretStore"]
    metadata: ObjectMeta
    spec: SecretStoreSpec


class PasswordSpec(_Spec):
    """``Password`` generator spec, with ESO's defaults."""

    length: int = Field(default=24, ge=1, le=4096)
    digits: int | None = Field(default=None, ge=0)
    symbols: int | None = Field(default=None, ge=0)
    symbol_characters: str | None = None
    no_upper: bool = False
    allow_repeat: bool = False
    encoding: Literal["raw", "base64", "base64url", "base32", "hex"] = "raw"


class PasswordGenerator(_Spec):
    """A ``Password`` generator."""

    api_version: Literal["generators.external-secrets.io/v1alpha1"]
    kind: Literal["Password"]
    metadata: ObjectMeta
    spec: PasswordSpec = Field(default_factory=PasswordSpec)


EsoDocument = ExternalSecret | ClusterExternalSecret | SecretStore | PasswordGenerator

_KINDS: Final[Mapping[str, type[_Spec]]] = {
    "ExternalSecret": ExternalSecret,
    "ClusterExternalSecret": ClusterExternalSecret,
    "SecretStore": SecretStore,
    "ClusterSecretStore": SecretStore,
    "Password": PasswordGenerator,
}


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _describe(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    return f"{doc.get('kind', 'document')} {meta.get('name', '<unnamed>')!r}"


def _check_provider(doc: Mapping[str, Any], what: str) -> None:
    spec = doc.get("spec") if isinstance(doc.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    provider = spec.get("provider")
    if not isinstance(provider, Mapping) or not provider:
        return
    names = sorted(provider)
    unsupported = [n for n in names if n not in SUPPORTED_PROVIDERS]
    if unsupported:
        raise UnsupportedProviderError(
            f"{what}: provider {', '.join(repr(n) for n in unsupported)} is not supported; "
            f"blacktop serves {' and '.join(repr(p) for p in SUPPORTED_PROVIDERS)}",
            problems=[Problem(path=f"spec.provider.{n}", message="unsupported provider") for n in unsupported],
        )
    if len(names) > 1:
        raise ManifestError(
            f"{what}: spec.provider must name exactly one provider, got {', '.join(names)}",
            problems=[Problem(path="spec.provider", message="exactly one provider is allowed")],
        )


def _semantic_problems(doc: EsoDocument) -> list[Problem]:
    spec: ExternalSecretSpec | None = None
    prefix = "spec"
    if isinstance(doc, ExternalSecret):
        spec = doc.spec
    elif isinstance(doc, ClusterExternalSecret):
        spec, prefix = doc.spec.external_secret_spec, "spec.externalSecretSpec"
    if spec is None:
        return []
    problems: list[Problem] = []
    for i, entry in enumerate(spec.data_from):
        chosen = [n for n in ("extract", "find") if getattr(entry, n) is not None]
        if entry.source_ref is not None and entry.source_ref.generator_ref is not None:
            chosen.append("sourceRef.generatorRef")
        if len(chosen) != 1:
            problems.append(
                Problem(
                    path=f"{prefix}.dataFrom[{i}]",
                    message=f"set exactly one of extract, find or sourceRef.generatorRef (got {chosen or 'none'})",
                )
            )
    target = spec.target
    if target.deletion_policy == "Delete" and target.creation_policy != "Owner":
        problems.append(
            Problem(path=f"{prefix}.target.deletionPolicy", message="Delete is only allowed with creationPolicy Owner")
        )
    if target.deletion_policy == "Merge" and target.creation_policy == "None":
        problems.append(
            Problem(path=f"{prefix}.target.deletionPolicy", message="Merge is not allowed with creationPolicy None")
        )
    return problems


def _check_generators(doc: EsoDocument, what: str) -> None:
    spec = doc.spec.external_secret_spec if isinstance(doc, ClusterExternalSecret) else doc.spec
    if not isinstance(spec, ExternalSecretSpec):
        return
    sources = [e.source_ref for e in spec.data] + [e.source_ref for e in spec.data_from]
    refs = [s.generator_ref for s in sources if s is not None]
    kinds = sorted({r.kind for r in refs if r is not None and r.kind not in SUPPORTED_GENERATORS})
    if kinds:
        raise UnsupportedProviderError(
            f"{what}: generator {', '.join(repr(k) for k in kinds)} is not supported; blacktop serves 'Password'",
            problems=[Problem(path="spec.dataFrom", message=f"unsupported generator {k}") for k in kinds],
        )


def parse_eso_document(doc: Mapping[str, Any]) -> EsoDocument:
    """Validate one ESO document and return its model, or raise with every problem located."""
    what = _describe(doc)
    kind = doc.get("kind")
    api_version = doc.get("apiVersion")
    model_type = _KINDS.get(kind) if isinstance(kind, str) else None
    if model_type is None:
        raise ManifestError(
            f"{what}: kind {kind!r} is not an External Secrets kind blacktop accepts",
            problems=[Problem(path="kind", message=f"must be one of {', '.join(sorted(_KINDS))}")],
        )
    allowed = (GENERATOR_API_VERSION,) if kind == "Password" else API_VERSIONS
    if api_version not in allowed:
        raise ManifestError(
            f"{what}: apiVersion {api_version!r} is not served; use {' or '.join(allowed)}",
            problems=[Problem(path="apiVersion", message=f"must be one of {', '.join(allowed)}")],
        )
    if model_type is SecretStore:
        _check_provider(doc, what)
    try:
        parsed = model_type.model_validate(dict(doc))
    except ValidationError as exc:
        problems = [Problem(path=_loc(e["loc"]), message=e["msg"]) for e in exc.errors()]
        raise ManifestError(f"{what} is invalid: {len(problems)} problem(s)", problems=problems) from None
    assert isinstance(parsed, ExternalSecret | ClusterExternalSecret | SecretStore | PasswordGenerator)
    problems = _semantic_problems(parsed)
    if problems:
        raise ManifestError(f"{what} is invalid: {len(problems)} problem(s)", problems=problems)
    _check_generators(parsed, what)
    return parsed
