"""Turn fetched provider values into the target secret, the way ESO's controller does.

The computation is pure: callers fetch what :func:`plan_fetches` asks for (from the embedded store,
Vault, ...), hand the results over as :class:`Fetched`, and get back the target secret's data,
labels and annotations. Keeping IO out makes every ESO rule here testable with plain dicts:

* ``data[].remoteRef`` selects a ``property`` of the remote map (a direct key first, then a dotted
  path); with no property the whole map is JSON-encoded, as Go's ``json.Marshal`` would.
* ``dataFrom`` entries merge in order (later keys win), then ``data[]`` overrides them.
* ``extract`` explodes a map into keys; ``find`` returns one key per matching secret path.
* keys that are not valid Secret keys are converted (``conversionStrategy``) unless rewritten.
* templates follow ESO's six rendering steps (see :func:`render_target`).

Refresh maths (``refreshInterval`` including 0, ``refreshPolicy``) and the ``Ready`` condition live
in :mod:`.refreshing`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from blacktop.kernel.errors import Problem

from . import eso
from .crypto import Entropy
from .errors import SyncError, TemplateError
from .generators import generate_password
from .templating import TemplateEngine

MANAGED_LABEL: Final = "reconcile.external-secrets.io/managed"
CREATED_BY_LABEL: Final = "reconcile.external-secrets.io/created-by"
DATA_HASH_ANNOTATION: Final = "reconcile.external-secrets.io/data-hash"
_VALID_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_INVALID_CHAR = re.compile(r"[^-._a-zA-Z0-9]")


@dataclass(frozen=True, slots=True)
class RemoteKey:
    """One remote secret to read: its key (path) and version ("" for the latest)."""

    key: str
    version: str = ""


@dataclass(frozen=True, slots=True)
class FindQuery:
    """Many remote secrets to read: those under ``path`` whose path matches ``name_regexp`` and
    whose metadata carries every tag in ``tags``."""

    path: str
    name_regexp: str
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """What the caller must fetch before computing the target."""

    keys: tuple[RemoteKey, ...] = ()
    finds: tuple[FindQuery, ...] = ()
    generators: tuple[eso.GeneratorRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Fetched:
    """Fetched values: each remote secret is a key/value map (KV semantics of both providers).

    A key missing from ``secrets`` means the provider has no such secret. ``found`` maps each
    query to ``{secret path: map}``. ``generators`` maps a generator name to its spec.
    """

    secrets: Mapping[RemoteKey, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    found: Mapping[FindQuery, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict, repr=False)
    passwords: Mapping[str, eso.PasswordSpec] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TargetSecret:
    """The secret an ExternalSecret produces (values as bytes, like a Kubernetes Secret)."""

    name: str
    namespace: str | None
    type: str
    data: Mapping[str, bytes] = field(repr=False)
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    immutable: bool = False


def plan_fetches(spec: eso.ExternalSecretSpec) -> FetchPlan:
    """List the remote reads (and generators) an ExternalSecret needs, without duplicates."""
    keys: dict[RemoteKey, None] = {}
    finds: dict[FindQuery, None] = {}
    generators: list[eso.GeneratorRef] = []
    for entry in spec.data:
        if entry.source_ref is not None and entry.source_ref.generator_ref is not None:
            generators.append(entry.source_ref.generator_ref)
        else:
            keys[RemoteKey(entry.remote_ref.key, entry.remote_ref.version)] = None
    for item in spec.data_from:
        if item.extract is not None:
            keys[RemoteKey(item.extract.key, item.extract.version)] = None
        elif item.find is not None:
            finds[_find_query(item.find)] = None
        elif item.source_ref is not None and item.source_ref.generator_ref is not None:
            generators.append(item.source_ref.generator_ref)
    return FetchPlan(keys=tuple(keys), finds=tuple(finds), generators=tuple(generators))


def _find_query(find: eso.Find) -> FindQuery:
    return FindQuery(
        path=find.path or "",
        name_regexp=find.name.regexp if find.name else "",
        tags=tuple(sorted(find.tags.items())),
    )


def go_json(value: Any) -> bytes:
    """Encode like Go's ``json.Marshal`` of a map: sorted keys, compact, HTML characters escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return go_json(value)


def select_property(secret: Mapping[str, Any], prop: str) -> Any:
    """A property of a remote map: an exact key first, then a dotted path; KeyError when absent."""
    if not prop:
        return secret
    if prop in secret:
        return secret[prop]
    current: Any = secret
    for part in prop.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isascii() and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise KeyError(prop)
    return current


def decode(value: bytes, strategy: str, *, where: str) -> bytes:
    """Apply ``decodingStrategy`` (None, Base64, Base64URL, Auto)."""
    try:
        if strategy == "Base64":
            return base64.b64decode(value, validate=True)
        if strategy == "Base64URL":
            return base64.b64decode(value, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SyncError(f"{where}: value is not valid {strategy}; fix decodingStrategy") from exc
    if strategy == "Auto":
        for attempt in ("Base64", "Base64URL"):
            try:
                return decode(value, attempt, where=where)
            except SyncError:
                continue
    return value


def convert_key(key: str, strategy: str) -> str:
    """ESO ``conversionStrategy``: replace characters not allowed in Secret keys."""
    if strategy == "Unicode":
        return _INVALID_CHAR.sub(lambda m: f"_U{ord(m.group(0)):04x}_", key)
    return _INVALID_CHAR.sub("_", key)


def _go_replacement(target: str) -> str:
    """Translate Go's ``$1``/``${name}`` replacement syntax to Python's."""
    return re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", target.replace("\\", "\\\\"))


def _rewrite(data: dict[str, bytes], rules: tuple[eso.Rewrite, ...], engine: TemplateEngine) -> dict[str, bytes]:
    for rule in rules:
        if rule.regexp is not None:
            pattern = re.compile(rule.regexp.source)
            replacement = _go_replacement(rule.regexp.target)
            data = {pattern.sub(replacement, k): v for k, v in data.items()}
        elif rule.transform is not None:
            data = {
                engine.render(rule.transform.template, {"value": k}, name="rewrite.transform"): v
                for k, v in data.items()
            }
        elif rule.merge is not None:
            raise SyncError("dataFrom[].rewrite[].merge is not supported by blacktop yet")
    return data


def _require_secret(fetched: Fetched, key: str, version: str, where: str) -> Mapping[str, Any]:
    secret = fetched.secrets.get(RemoteKey(key, version))
    if secret is None:
        raise SyncError(f"{where}: could not get secret data from provider: key {key!r} not found")
    return secret


def _from_entry(
    index: int, item: eso.DataFromEntry, fetched: Fetched, engine: TemplateEngine, entropy: Entropy
) -> dict[str, bytes]:
    where = f"spec.dataFrom[{index}]"
    result: dict[str, bytes]
    strategy = "Default"
    if item.extract is not None:
        ref = item.extract
        secret = _require_secret(fetched, ref.key, ref.version, where)
        try:
            selected = select_property(secret, ref.property)
        except KeyError:
            raise SyncError(f"{where}: property {ref.property!r} not found in {ref.key!r}") from None
        if not isinstance(selected, Mapping):
            raise SyncError(f"{where}: extract needs a JSON object at {ref.key!r}; use data[] for one value")
        result = {k: decode(_as_bytes(v), ref.decoding_strategy, where=where) for k, v in selected.items()}
        strategy = ref.conversion_strategy
    elif item.find is not None:
        found = fetched.found.get(_find_query(item.find), {})
        how = item.find.decoding_strategy
        result = {path: decode(go_json(dict(value)), how, where=where) for path, value in found.items()}
        strategy = item.find.conversion_strategy
    else:
        assert item.source_ref is not None
        assert item.source_ref.generator_ref is not None
        name = item.source_ref.generator_ref.name
        spec = fetched.passwords.get(name)
        if spec is None:
            raise SyncError(f"{where}: Password generator {name!r} not found")
        result = generate_password(spec, entropy=entropy)
    if item.rewrite:
        return _rewrite(result, item.rewrite, engine)
    return {convert_key(k, strategy): v for k, v in result.items()}


def compute_provider_data(
    spec: eso.ExternalSecretSpec, fetched: Fetched, *, engine: TemplateEngine, entropy: Entropy
) -> dict[str, bytes]:
    """Assemble provider data: ``dataFrom`` in order (later wins), then ``data[]`` overrides."""
    data: dict[str, bytes] = {}
    for index, item in enumerate(spec.data_from):
        data.update(_from_entry(index, item, fetched, engine, entropy))
    for index, entry in enumerate(spec.data):
        where = f"spec.data[{index}]"
        ref = entry.remote_ref
        if entry.source_ref is not None and entry.source_ref.generator_ref is not None:
            gen = entry.source_ref.generator_ref.name
            spec_ = fetched.passwords.get(gen)
            if spec_ is None:
                raise SyncError(f"{where}: Password generator {gen!r} not found")
            generated = generate_password(spec_, entropy=entropy)
            data[entry.secret_key] = select_property(generated, ref.property or "password")
            continue
        secret = _require_secret(fetched, ref.key, ref.version, where)
        try:
            value = select_property(secret, ref.property)
        except KeyError:
            raise SyncError(
                f"{where}: could not get secret data from provider: property {ref.property!r} not found in {ref.key!r}"
            ) from None
        raw = decode(_as_bytes(value), ref.decoding_strategy, where=where)
        if ref.null_byte_policy == "Fail" and b"\x00" in raw:
            raise SyncError(f"{where}: value contains a NUL byte and nullBytePolicy is Fail")
        data[entry.secret_key] = raw
    bad = sorted(k for k in data if not _VALID_KEY.match(k))
    if bad:
        raise SyncError(
            f"invalid secret keys {bad} (TIP: use rewrite or conversionStrategy to make them valid)",
            problems=[Problem(path="data", message=f"invalid key {k!r}") for k in bad],
        )
    return data


def _text(data: Mapping[str, bytes]) -> dict[str, str]:
    return {k: v.decode("utf-8", errors="replace") for k, v in data.items()}


def template_source_refs(spec: eso.ExternalSecretSpec) -> tuple[tuple[str, str], ...]:
    """The ``(kind, name)`` of every ConfigMap and Secret that ``templateFrom`` reads, without duplicates."""
    template = spec.target.template
    refs: dict[tuple[str, str], None] = {}
    for item in template.template_from if template is not None else ():
        if item.config_map is not None:
            refs[("ConfigMap", item.config_map.name)] = None
        if item.secret is not None:
            refs[("Secret", item.secret.name)] = None
    return tuple(refs)


def _apply_template_from(
    index: int,
    item: eso.TemplateFrom,
    ctx: Mapping[str, str],
    sources: Mapping[tuple[str, str], Mapping[str, str]],
    engine: TemplateEngine,
    *,
    namespace: str,
) -> dict[str, str]:
    """Render one ``templateFrom`` entry: ``Values`` renders each item's value under its key,
    ``KeysAndValues`` (and ``literal``) renders the whole text and reads it as a YAML map."""
    rendered: dict[str, str] = {}
    where = f"spec.target.template.templateFrom[{index}]"
    if item.literal is not None:
        rendered.update(_keys_and_values(item.literal, ctx, engine, name="templateFrom.literal"))
    for kind, field_name, ref in (("ConfigMap", "configMap", item.config_map), ("Secret", "secret", item.secret)):
        if ref is None:
            continue
        source = sources.get((kind, ref.name))
        if source is None:
            raise SyncError(
                f"{where}.{field_name}: could not get {kind} {namespace}/{ref.name}: not found; "
                f"create it in namespace {namespace} or fix the name",
                problems=[Problem(path=f"{where}.{field_name}.name", message=f"{kind} {ref.name!r} not found")],
            )
        for number, part in enumerate(ref.items):
            text = source.get(part.key)
            if text is None:
                raise SyncError(
                    f"{where}.{field_name}: {kind} {namespace}/{ref.name} has no key {part.key!r}; "
                    f"add the key or fix items[{number}].key",
                    problems=[Problem(path=f"{where}.{field_name}.items[{number}].key", message="key not found")],
                )
            name = f"{ref.name}.{part.key}"
            if part.template_as == "KeysAndValues":
                rendered.update(_keys_and_values(text, ctx, engine, name=name))
            else:
                rendered[part.key] = engine.render(text, ctx, name=name)
    return rendered


class _NoTimestampLoader(yaml.SafeLoader):
    """YAML 1.1 without implicit timestamps: ESO reads KeysAndValues into ``map[string]string``, so a
    rendered ``{{ now }}`` stays the text it was rendered as."""


_NoTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _keys_and_values(source: str, ctx: Mapping[str, str], engine: TemplateEngine, *, name: str) -> dict[str, str]:
    text = engine.render(source, ctx, name=name)
    try:
        parsed = yaml.load(text, Loader=_NoTimestampLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise TemplateError(f"template {name!r} did not render to a YAML map: {exc}") from exc
    if parsed is None:
        return {}
    if not isinstance(parsed, Mapping):
        raise TemplateError(f"template {name!r} did not render to a YAML map of keys to values")
    return {str(k): v if isinstance(v, str) else go_json(v).decode() for k, v in parsed.items()}


def data_hash(data: Mapping[str, bytes]) -> str:
    """The value of the data-hash annotation: detects hand edits of the target secret.

    Same role as ESO's annotation, but not the same digest (ESO hashes Go's ``%v`` rendering), so a
    secret written by ESO itself is re-synced once when blacktop takes it over.
    """
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(key.encode() + b"\x00" + data[key] + b"\x00")
    return digest.hexdigest()[:32]


def render_target(
    es: eso.ExternalSecret,
    provider_data: Mapping[str, bytes],
    *,
    engine: TemplateEngine,
    existing: Mapping[str, bytes] | None = None,
    template_sources: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
) -> TargetSecret:
    """Build the target secret following ESO's rendering steps.

    1. Start empty, or from ``existing`` when creationPolicy is Merge or CreateOrMerge.
    2. Without a template, copy the provider data. 3. With one, copy it first only if mergePolicy
    is Merge or there are no data/templateFrom templates. 4. Apply templateFrom, 5. then
    ``template.data`` (which wins), 6. then label and annotation templates.
    """
    target = es.spec.target
    data: dict[str, bytes] = {}
    if target.creation_policy in ("Merge", "CreateOrMerge") and existing:
        data.update(existing)
    labels: dict[str, str] = {MANAGED_LABEL: "true"}
    annotations: dict[str, str] = {}
    template = target.template
    if template is None:
        data.update(provider_data)
    else:
        ctx = _text(provider_data)
        if template.merge_policy == "Merge" or not (template.data or template.template_from):
            data.update(provider_data)
        sources = template_sources or {}
        for index, item in enumerate(template.template_from):
            namespace = es.metadata.namespace or "default"
            rendered = _apply_template_from(index, item, ctx, sources, engine, namespace=namespace)
            if item.target == "Labels":
                labels.update(rendered)
            elif item.target == "Annotations":
                annotations.update(rendered)
            else:
                data.update({k: v.encode() for k, v in rendered.items()})
        for key, source in template.data.items():
            data[key] = engine.render(source, ctx, name=f"spec.target.template.data.{key}").encode()
        for key, source in template.metadata.labels.items():
            labels[key] = engine.render(source, ctx, name=f"spec.target.template.metadata.labels.{key}")
        for key, source in template.metadata.annotations.items():
            annotations[key] = engine.render(source, ctx, name=f"spec.target.template.metadata.annotations.{key}")
    if target.creation_policy == "Owner":
        labels[CREATED_BY_LABEL] = es.metadata.name
    annotations[DATA_HASH_ANNOTATION] = data_hash(data)
    return TargetSecret(
        name=es.target_name,
        namespace=es.metadata.namespace,
        type=template.type if template is not None else "Opaque",
        data=data,
        labels=labels,
        annotations=annotations,
        immutable=target.immutable,
    )


def compute_target(
    es: eso.ExternalSecret,
    fetched: Fetched,
    *,
    engine: TemplateEngine,
    entropy: Entropy,
    existing: Mapping[str, bytes] | None = None,
    template_sources: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
) -> TargetSecret:
    """Provider data assembly followed by template rendering: the whole sync computation."""
    provider_data = compute_provider_data(es.spec, fetched, engine=engine, entropy=entropy)
    return render_target(es, provider_data, engine=engine, existing=existing, template_sources=template_sources)
