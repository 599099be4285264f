"""blacktop's own kind schemas give the same verdict as Backstage's real JSON schemas.

Test design notes: the real schemas are read from the shared corpus (never copied into the repo) and
compiled with ``jsonschema`` and a registry resolving their ``$ref: Entity``/``EntityMeta``/``common``.
Which real schema judges a document is decided here independently of ``kinds.select_schema``: by kind,
and for ``API``/``AiResource`` by ``spec.type`` (each variant file pins its type). Every corpus entity
and template is compared as written and with its placeholders replaced by text, then hypothesis
mutates corpus documents (drops any key, puts a wrongly typed value anywhere) and compares again.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource

from blacktop.catalog import kinds

from .corpus_reader import ENTITIES, SCHEMAS, TEMPLATES

VARIANT_FILES = {
    ("API", "mcp-server"): "API.v1alpha1.mcp-server",
    ("API", "ai-model-server"): "API.v1alpha1.ai-model-server",
    ("AiResource", "skill"): "AiResource.v1alpha1.skill",
    ("AiResource", "rule"): "AiResource.v1alpha1.rule",
    ("AiResource", "plugin"): "AiResource.v1alpha1.plugin",
    ("AiResource", "marketplace"): "AiResource.v1alpha1.marketplace",
}
KIND_FILES = {
    "Component": "Component.v1alpha1",
    "API": "API.v1alpha1",
    "Resource": "Resource.v1alpha1",
    "System": "System.v1alpha1",
    "Domain": "Domain.v1alpha1",
    "Group": "Group.v1alpha1",
    "User": "User.v1alpha1",
    "Location": "Location.v1alpha1",
    "Template": "Template.v1beta3",
    "AiResource": "AiResource.v1alpha1",
}


def _load(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


@cache
def _registry() -> Registry:
    resources = []
    for name in ("Entity", "EntityMeta", "EntityEnvelope"):
        resources.append((name, Resource.from_contents(_load(SCHEMAS / f"{name}.schema.json"))))
    resources.append(("common", Resource.from_contents(_load(SCHEMAS / "shared" / "common.schema.json"))))
    return Registry().with_resources(resources)


@cache
def _real_validator(file_stem: str) -> jsonschema.Draft7Validator:
    schema = _load(SCHEMAS / "kinds" / f"{file_stem}.schema.json")
    return jsonschema.Draft7Validator(schema, registry=_registry())


def real_verdict(document: Any) -> bool | None:
    """True/False from Backstage's schema for this document; None when no schema knows its kind."""
    if not isinstance(document, dict):
        return None
    kind = document.get("kind")
    if not isinstance(kind, str):
        return None
    spec = document.get("spec")
    spec_type = spec.get("type") if isinstance(spec, dict) else None
    stem = VARIANT_FILES.get((kind, spec_type)) if isinstance(spec_type, str) else None
    stem = stem or KIND_FILES.get(kind)
    if stem is None:
        return None
    return _real_validator(stem).is_valid(document)


def our_verdict(document: Any) -> bool | None:
    if not isinstance(document, dict) or kinds.select_schema(document) is None:
        return None
    return not kinds.schema_problems(document)


def corpus_documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for root in (ENTITIES, TEMPLATES):
        for path in sorted(root.rglob("*.yaml")):
            for i, doc in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8"))):
                if isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc:
                    yield f"{path.relative_to(root.parent)}#{i}", doc


CORPUS = dict(corpus_documents())


def test_corpus_is_present_and_large() -> None:
    # 67 example entities from the three Location roots plus demo/create-app files and 17 templates.
    assert len(CORPUS) >= 90


@pytest.mark.parametrize("document", CORPUS.values(), ids=CORPUS.keys())
def test_corpus_document_gets_same_verdict(document: dict[str, Any]) -> None:
    assert our_verdict(document) == real_verdict(document)


def _without_placeholders(node: Any) -> Any:
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)) in ("$text", "$json", "$yaml"):
            return "substituted text"
        return {k: _without_placeholders(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_placeholders(v) for v in node]
    return node


@pytest.mark.parametrize("document", CORPUS.values(), ids=CORPUS.keys())
def test_corpus_document_is_accepted_after_substitution(document: dict[str, Any]) -> None:
    substituted = _without_placeholders(document)
    assert real_verdict(substituted) is True
    assert our_verdict(substituted) is True


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


WRONG_VALUES = [None, 0, 7, 1.5, True, False, "", "x", "mcp-server", "skill", [], ["x"], [1], {}, {"a": 1}]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    original = copy.deepcopy(draw(st.sampled_from(list(CORPUS.values()))))
    document: dict[str, Any] = _without_placeholders(original)
    path = draw(st.sampled_from(list(_paths(document))))
    parent: Any = document
    for part in path[:-1]:
        parent = parent[part]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(st.sampled_from(WRONG_VALUES))
    return document


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=mutated())
def test_mutated_documents_get_same_verdict(document: dict[str, Any]) -> None:
    assert our_verdict(document) == real_verdict(document)


ROOT_MUTATIONS = {
    "unknown-root-field": {"extra": 1},
    "relations-wrong-shape": {"relations": [{"type": "has space", "targetRef": "x"}]},
    "relations-ok": {"relations": [{"type": "ownedBy", "targetRef": "group:default/a"}]},
    "status-bad-level": {"status": {"items": [{"type": "t", "level": "fatal", "message": "m"}]}},
    "status-ok": {"status": {"items": [{"type": "t", "level": "error", "message": "m"}]}},
}


@pytest.mark.parametrize("extra", ROOT_MUTATIONS.values(), ids=ROOT_MUTATIONS.keys())
def test_root_fields_get_same_verdict(extra: dict[str, Any]) -> None:
    for document in list(CORPUS.values())[:10]:
        changed = {**_without_placeholders(document), **extra}
        assert our_verdict(changed) == real_verdict(changed)


def _mutations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in _paths(document):
        if len(path) > 5:
            continue
        for replacement in (_DROP, None, 1, [], "x"):
            changed = copy.deepcopy(document)
            parent: Any = changed
            for part in path[:-1]:
                parent = parent[part]
            if replacement is _DROP:
                if not isinstance(parent, dict):
                    continue
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            yield f"{'.'.join(map(str, path))}={replacement!r}", changed


_DROP = object()


def test_every_mutation_to_depth_five_gets_same_verdict() -> None:
    # Systematic companion of the hypothesis test: drop each field, or set it to null, a number, a
    # list or a string, down to depth 5 (metadata.links[0].url, spec.steps[0].input.x), for every corpus document.
    mismatches = []
    for name, document in CORPUS.items():
        for label, changed in _mutations(_without_placeholders(document)):
            if our_verdict(changed) != real_verdict(changed):
                mismatches.append(f"{name}: {label}")
    assert mismatches == []
