"""Every ESO docs snippet that is a complete ExternalSecret/SecretStore (it validates against the
ESO CRD schemas in the corpus, with unknown fields refused as a strict API server would) is
accepted by blacktop's parser when it uses a supported provider (``vault``; ``blacktop`` is ours
and not in ESO's CRDs) and refused with a message naming the provider otherwise.

Test design: the CRD check is independent of the parser (plain ``jsonschema`` over the CRD's
``openAPIV3Schema``), so the parser cannot mark its own homework. Snippets are mkdocs-escaped:
``{% raw %}`` markers are stripped before YAML parsing, and fragments that do not parse are skipped.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from blacktop.secrets import eso
from blacktop.secrets.errors import UnsupportedProviderError

CORPUS = (Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "eso").resolve()
KINDS = {
    "ExternalSecret": "externalsecrets",
    "SecretStore": "secretstores",
    "ClusterSecretStore": "clustersecretstores",
    "ClusterExternalSecret": "clusterexternalsecrets",
}


def _strict(schema: Any) -> Any:
    """Refuse unknown fields wherever the schema lists properties (API server strict validation)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        lists_fields = out.get("type") == "object" and "properties" in out
        keeps_unknown = "additionalProperties" in out or out.get("x-kubernetes-preserve-unknown-fields")
        if lists_fields and not keeps_unknown:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(x) for x in schema]
    return schema


@cache
def crd_validator(plural: str, version: str) -> jsonschema.Draft7Validator | None:
    crd = yaml.safe_load((CORPUS / "crds" / f"external-secrets.io_{plural}.yaml").read_text())
    for served in crd["spec"]["versions"]:
        # v1beta1 is deprecated (served: false upstream) but its schema is kept, and blacktop serves
        # it because users' manifests (the design's own example) still use it.
        if served["name"] == version:
            schema = _strict(copy.deepcopy(served["schema"]["openAPIV3Schema"]))
            return jsonschema.Draft7Validator(schema)
    return None


def crd_errors(doc: dict[str, Any]) -> list[str]:
    """Why a document is not a complete, valid ESO object; empty when it is."""
    group, _, version = str(doc.get("apiVersion", "")).partition("/")
    if group != "external-secrets.io":
        return [f"apiVersion {doc.get('apiVersion')} is not external-secrets.io"]
    validator = crd_validator(KINDS[doc["kind"]], version)
    if validator is None:
        return [f"version {version} is not served by the CRD"]
    meta = doc.get("metadata") or {}
    problems = [] if isinstance(meta.get("name"), str) else ["metadata.name missing"]
    for field in ("labels", "annotations"):
        values = meta.get(field) or {}
        problems += [f"metadata.{field}.{k} is not a string" for k, v in values.items() if not isinstance(v, str)]
    return problems + [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


@dataclass(frozen=True)
class Snippet:
    name: str
    doc: dict[str, Any]


def snippets() -> Iterator[Snippet]:
    for path in sorted((CORPUS / "docs-snippets").glob("*.yaml")):
        text = path.read_text().replace("{% raw %}", "").replace("{% endraw %}", "")
        try:
            docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
        except yaml.YAMLError:
            continue
        for index, doc in enumerate(docs):
            if doc.get("kind") in KINDS:
                yield Snippet(f"{path.stem}#{index}", doc)


SNIPPETS = list(snippets())
COMPLETE = [s for s in SNIPPETS if not crd_errors(s.doc)]


def test_corpus_has_enough_complete_snippets_to_mean_something() -> None:
    assert len(SNIPPETS) > 150
    kinds = {s.doc["kind"] for s in COMPLETE}
    assert {"ExternalSecret", "SecretStore", "ClusterSecretStore", "ClusterExternalSecret"} <= kinds
    assert len(COMPLETE) > 150


def _unsupported(doc: dict[str, Any]) -> list[str]:
    """Providers or generator kinds in the document that blacktop does not serve."""
    spec = doc.get("spec") or {}
    if doc["kind"] in ("SecretStore", "ClusterSecretStore"):
        return [p for p in spec.get("provider") or {} if p not in eso.SUPPORTED_PROVIDERS]
    if doc["kind"] == "ClusterExternalSecret":
        spec = spec.get("externalSecretSpec") or {}
    entries = list(spec.get("data") or []) + list(spec.get("dataFrom") or [])
    kinds = {((e.get("sourceRef") or {}).get("generatorRef") or {}).get("kind") for e in entries}
    return sorted(k for k in kinds if k and k not in eso.SUPPORTED_GENERATORS)


@pytest.mark.parametrize("snippet", COMPLETE, ids=[s.name for s in COMPLETE])
def test_complete_snippet_is_accepted_or_refused_naming_its_provider(snippet: Snippet) -> None:
    unsupported = _unsupported(snippet.doc)
    if unsupported:
        with pytest.raises(UnsupportedProviderError) as info:
            eso.parse_eso_document(snippet.doc)
        for name in unsupported:
            assert repr(name) in str(info.value)
    else:
        parsed = eso.parse_eso_document(snippet.doc)
        assert parsed.kind == snippet.doc["kind"]


def test_supported_providers_are_actually_exercised() -> None:
    vault = [s for s in COMPLETE if "vault" in ((s.doc.get("spec") or {}).get("provider") or {})]
    refused = [s for s in COMPLETE if _unsupported(s.doc)]
    accepted_es = [s for s in COMPLETE if s.doc["kind"] == "ExternalSecret" and not _unsupported(s.doc)]
    assert len(vault) >= 8
    assert len(refused) >= 40
    assert len(accepted_es) >= 80


def test_blacktop_provider_store_is_accepted() -> None:
    doc = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": "vault-backend"},
        "spec": {"provider": {"blacktop": {"mount": "secret"}}},
    }
    store = eso.parse_eso_document(doc)
    assert isinstance(store, eso.SecretStore)
    assert store.spec.provider.name == "blacktop"


def test_design_example_is_a_complete_v1beta1_external_secret() -> None:
    example = CORPUS.parents[1] / "examples" / "externalsecret-payment-service.yaml"
    doc = yaml.safe_load(example.read_text())
    assert crd_errors(doc) == []
    assert isinstance(eso.parse_eso_document(doc), eso.ExternalSecret)
