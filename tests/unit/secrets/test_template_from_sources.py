"""``templateFrom`` ConfigMap and Secret sources: each ``templateAs`` mode onto each target, the ESO
docs' own example, and the Ready=False messages for a missing source or key.

Test design: rendering is driven through :func:`syncing.render_target` with plain provider data and
plain source maps (what the wiring reads from the ConfigMap kind and the store), so each row states
one ESO rule: ``Values`` renders an item's value under its key, ``KeysAndValues`` renders the whole
text and reads it as a YAML map, and ``target`` picks data, labels or annotations. The ESO example is
read from the corpus (``template-v2-from-secret.yaml``), never copied.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from tests.corpus import corpus_dir

from blacktop.kernel.schemas import validate
from blacktop.secrets import eso, kinds, syncing
from blacktop.secrets.errors import SyncError, TemplateError
from blacktop.secrets.templating import TemplateEngine

ENGINE = TemplateEngine(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), entropy=os.urandom)
PROVIDER = {"user": b"app", "password": b"s3cret", "uri": b"oci://registry"}


def es(template_from: list[dict[str, Any]], **template: Any) -> eso.ExternalSecret:
    doc = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "app", "namespace": "payments"},
        "spec": {
            "secretStoreRef": {"name": "embedded"},
            "target": {"template": {"templateFrom": template_from, **template}},
        },
    }
    parsed = eso.parse_eso_document(doc)
    assert isinstance(parsed, eso.ExternalSecret)
    return parsed


def source(kind: str, name: str, *items: tuple[str, str], target: str = "Data") -> dict[str, Any]:
    """A templateFrom entry reading ``items`` (key, templateAs) from ``kind`` ``name``."""
    field_name = "configMap" if kind == "ConfigMap" else "secret"
    listed = [{"key": key, "templateAs": mode} for key, mode in items]
    return {"target": target, field_name: {"name": name, "items": listed}}


SOURCES: dict[tuple[str, str], dict[str, str]] = {
    ("ConfigMap", "tpl"): {
        "dsn": "postgres://{{ .user }}:{{ .password }}@db",
        "pairs": "{{ .user }}-key: '{{ .password | upper }}'\nfixed: kept\nport: 5432",
        "owner": "{{ .user }}",
        "meta": "synced-for/{{ .user }}: '{{ .uri }}'",
    },
    ("Secret", "tpl-secret"): {
        "conn": "{{ .user }}@{{ .uri }}",
        "more": "token: '{{ .password | b64enc }}'",
    },
}


@dataclass
class Case:
    template_from: list[dict[str, Any]]
    data: dict[str, bytes] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


CASES = {
    "configmap-values-into-data-keeps-the-key": Case(
        [source("ConfigMap", "tpl", ("dsn", "Values"))], data={"dsn": b"postgres://app:s3cret@db"}
    ),
    "configmap-keys-and-values-into-data-parses-yaml": Case(
        [source("ConfigMap", "tpl", ("pairs", "KeysAndValues"))],
        data={"app-key": b"S3CRET", "fixed": b"kept", "port": b"5432"},
    ),
    "configmap-values-into-labels": Case(
        [source("ConfigMap", "tpl", ("owner", "Values"), target="Labels")], labels={"owner": "app"}
    ),
    "configmap-keys-and-values-into-annotations": Case(
        [source("ConfigMap", "tpl", ("meta", "KeysAndValues"), target="Annotations")],
        annotations={"synced-for/app": "oci://registry"},
    ),
    "secret-values-into-data": Case(
        [source("Secret", "tpl-secret", ("conn", "Values"))], data={"conn": b"app@oci://registry"}
    ),
    "secret-keys-and-values-into-labels": Case(
        [source("Secret", "tpl-secret", ("more", "KeysAndValues"), target="Labels")],
        labels={"token": base64.b64encode(b"s3cret").decode()},
    ),
    "templateAs-defaults-to-values": Case(
        [{"configMap": {"name": "tpl", "items": [{"key": "owner"}]}}], data={"owner": b"app"}
    ),
    "later-entries-win-over-earlier-ones": Case(
        [source("Secret", "tpl-secret", ("conn", "Values")), {"literal": "conn: from-literal"}],
        data={"conn": b"from-literal"},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_template_from_sources_render_each_mode_onto_each_target(case: Case) -> None:
    target = syncing.render_target(es(case.template_from), PROVIDER, engine=ENGINE, template_sources=SOURCES)
    assert dict(target.data) == case.data
    assert {k: v for k, v in target.labels.items() if not k.startswith("reconcile.")} == case.labels
    annotations = {k: v for k, v in target.annotations.items() if k != syncing.DATA_HASH_ANNOTATION}
    assert annotations == case.annotations


def test_template_source_refs_lists_each_source_once() -> None:
    spec = es([source("ConfigMap", "tpl", ("dsn", "Values")), source("ConfigMap", "tpl", ("owner", "Values")),
               source("Secret", "tpl-secret", ("conn", "Values")), {"literal": "a: b"}]).spec  # fmt: skip
    assert syncing.template_source_refs(spec) == (("ConfigMap", "tpl"), ("Secret", "tpl-secret"))


@dataclass
class ErrorCase:
    template_from: list[dict[str, Any]]
    error: type[Exception]
    message: str
    path: str = ""


ERRORS = {
    "missing-configmap": ErrorCase(
        [source("ConfigMap", "absent", ("dsn", "Values"))],
        SyncError,
        "could not get ConfigMap payments/absent: not found",
        "spec.target.template.templateFrom[0].configMap.name",
    ),
    "missing-secret": ErrorCase(
        [{"literal": "a: b"}, source("Secret", "absent", ("conn", "Values"))],
        SyncError,
        "could not get Secret payments/absent: not found",
        "spec.target.template.templateFrom[1].secret.name",
    ),
    "missing-key-in-configmap": ErrorCase(
        [source("ConfigMap", "tpl", ("dsn", "Values"), ("nope", "Values"))],
        SyncError,
        "ConfigMap payments/tpl has no key 'nope'",
        "spec.target.template.templateFrom[0].configMap.items[1].key",
    ),
    "missing-key-in-secret": ErrorCase(
        [source("Secret", "tpl-secret", ("nope", "KeysAndValues"))],
        SyncError,
        "Secret payments/tpl-secret has no key 'nope'",
        "spec.target.template.templateFrom[0].secret.items[0].key",
    ),
    "keys-and-values-not-a-map": ErrorCase(
        [source("ConfigMap", "tpl", ("dsn", "KeysAndValues"))], TemplateError, "did not render to a YAML map"
    ),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_missing_sources_and_keys_are_named(case: ErrorCase) -> None:
    with pytest.raises(case.error, match=case.message) as raised:
        syncing.render_target(es(case.template_from), PROVIDER, engine=ENGINE, template_sources=SOURCES)
    if case.path:
        assert isinstance(raised.value, SyncError)
        assert [p.path for p in raised.value.problems] == [case.path]


def _eso_docs_example() -> tuple[dict[str, Any], dict[str, Any]]:
    text = corpus_dir("eso", "docs-snippets", "template-v2-from-secret.yaml").read_text()
    text = text.replace("{% raw %}", "").replace("{% endraw %}", "")
    config_map, external_secret = (d for d in yaml.safe_load_all(text) if d)
    return config_map, external_secret


def test_the_eso_docs_configmap_example_renders_as_documented() -> None:
    config_map, document = _eso_docs_example()
    document["metadata"]["namespace"] = "payments"
    document["spec"]["secretStoreRef"] = {"name": "embedded"}
    parsed = eso.parse_eso_document(document)
    assert isinstance(parsed, eso.ExternalSecret)
    sources = {("ConfigMap", config_map["metadata"]["name"]): config_map["data"]}
    provider = {"user": b"grafana", "password": b"pw", "uri": b"https://graphite"}
    target = syncing.render_target(parsed, provider, engine=ENGINE, template_sources=sources)
    config = yaml.safe_load(target.data["config.yaml"])
    assert config["datasources"][0] == {
        "name": "Graphite", "type": "graphite", "access": "proxy",
        "url": "https://graphite", "password": "pw", "user": "grafana",
    }  # fmt: skip
    assert target.data["my-application-grafana"] == base64.b64encode(b"pw")
    assert target.data["enableOCI"] == b"false"
    assert target.data["application-type"] == b"grafana"
    assert "user" not in target.data, "templates without mergePolicy Merge replace the provider data"
    assert target.annotations["last-synced-for-user/grafana"] == ENGINE.render("{{ now }}", {})


CONFIG_MAPS = {
    "data-and-binary-data": ({"data": {"a": "x"}, "binaryData": {"b": "eA=="}}, []),
    "data-value-not-a-string": ({"data": {"a": 1}}, ["data.a"]),
    "spec-is-not-a-configmap-field": ({"spec": {"a": "x"}}, [""]),
}


@pytest.mark.parametrize(("body", "want_paths"), CONFIG_MAPS.values(), ids=CONFIG_MAPS.keys())
def test_config_map_kind_schema_is_kubernetes_shaped(body: dict[str, Any], want_paths: list[str]) -> None:
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tpl", "namespace": "payments"}, **body}
    assert [p.path for p in validate(document, kinds.CONFIG_MAP.schema)] == want_paths
    assert kinds.CONFIG_MAP in kinds.KINDS and kinds.CONFIG_MAP.group == "" and kinds.CONFIG_MAP.api_version() == "v1"
