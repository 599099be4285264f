"""ESO's sync computation: provider data assembly (data, dataFrom extract/find, rewrite, decoding,
conversion) and the six template rendering steps, table-driven over plain fetched maps.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.secrets import eso, syncing
from blacktop.secrets.errors import SyncError, TemplateError
from blacktop.secrets.templating import TemplateEngine

ENGINE = TemplateEngine(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), entropy=os.urandom)
DB = syncing.RemoteKey("payments/db")
STORE: dict[syncing.RemoteKey, dict[str, Any]] = {
    DB: {"user": "app", "pass": "pw", "nested": {"host": "h", "port": 5432}, "a.b": "dotted-key"},
    syncing.RemoteKey("payments/db", "1"): {"user": "old"},
    syncing.RemoteKey("payments/extra"): {"user": "from-extra", "path/key": "slash"},
    syncing.RemoteKey("payments/b64"): {"v": base64.b64encode(b"decoded").decode(), "u": "aGk_"},
}
FIND = syncing.FindQuery(path="payments", name_regexp="^payments/s")
FOUND = {FIND: {"payments/stripe": {"k": "1"}, "payments/search": {"k": "2"}}}


def es(spec: dict[str, Any], *, name: str = "app") -> eso.ExternalSecret:
    doc = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": "payments"},
        "spec": {"secretStoreRef": {"name": "embedded", "kind": "ClusterSecretStore"}, **spec},
    }
    parsed = eso.parse_eso_document(doc)
    assert isinstance(parsed, eso.ExternalSecret)
    return parsed


def ref(key: str, prop: str = "", **extra: str) -> dict[str, Any]:
    return {"key": key, **({"property": prop} if prop else {}), **extra}


@dataclass
class Case:
    spec: dict[str, Any]
    want: dict[str, bytes] | None = None
    error: str = ""
    existing: dict[str, bytes] = field(default_factory=dict)
    sources: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


CASES = {
    "property-selects-one-value": Case(
        {"data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user")}]}, {"u": b"app"}
    ),
    "no-property-json-encodes-whole-map": Case(
        {"data": [{"secretKey": "all", "remoteRef": ref("payments/extra")}]},
        {"all": b'{"path/key":"slash","user":"from-extra"}'},
    ),
    "dotted-property-walks-nested-map": Case(
        {"data": [{"secretKey": "p", "remoteRef": ref("payments/db", "nested.port")}]}, {"p": b"5432"}
    ),
    "exact-key-with-dot-wins-over-path": Case(
        {"data": [{"secretKey": "d", "remoteRef": ref("payments/db", "a.b")}]}, {"d": b"dotted-key"}
    ),
    "non-string-property-is-json": Case(
        {"data": [{"secretKey": "n", "remoteRef": ref("payments/db", "nested")}]}, {"n": b'{"host":"h","port":5432}'}
    ),
    "version-reads-that-version": Case(
        {"data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user", version="1")}]}, {"u": b"old"}
    ),
    "base64-decoding": Case(
        {"data": [{"secretKey": "v", "remoteRef": ref("payments/b64", "v", decodingStrategy="Base64")}]},
        {"v": b"decoded"},
    ),
    "base64url-decoding": Case(
        {"data": [{"secretKey": "u", "remoteRef": ref("payments/b64", "u", decodingStrategy="Base64URL")}]},
        {"u": b"hi?"},
    ),
    "auto-decoding-falls-back-to-raw": Case(
        {"data": [{"secretKey": "u", "remoteRef": ref("payments/db", "pass", decodingStrategy="Auto")}]},
        {"u": b"pw"},
    ),
    "extract-explodes-map-and-converts-keys": Case(
        {"dataFrom": [{"extract": ref("payments/extra")}]}, {"user": b"from-extra", "path_key": b"slash"}
    ),
    "extract-unicode-conversion": Case(
        {"dataFrom": [{"extract": ref("payments/extra", conversionStrategy="Unicode")}]},
        {"user": b"from-extra", "path_U002f_key": b"slash"},
    ),
    "later-datafrom-wins-then-data-overrides": Case(
        {
            "dataFrom": [{"extract": ref("payments/db", "nested")}, {"extract": ref("payments/extra")}],
            "data": [{"secretKey": "user", "remoteRef": ref("payments/db", "user")}],
        },
        {"host": b"h", "port": b"5432", "user": b"app", "path_key": b"slash"},
    ),
    "find-keys-are-paths-with-slashes-converted": Case(
        {"dataFrom": [{"find": {"path": "payments", "name": {"regexp": "^payments/s"}}}]},
        {"payments_stripe": b'{"k":"1"}', "payments_search": b'{"k":"2"}'},
    ),
    "rewrite-regexp-with-go-group-syntax": Case(
        {
            "dataFrom": [
                {
                    "find": {"path": "payments", "name": {"regexp": "^payments/s"}},
                    "rewrite": [{"regexp": {"source": "payments/(.*)", "target": "svc-$1"}}],
                }
            ]
        },
        {"svc-stripe": b'{"k":"1"}', "svc-search": b'{"k":"2"}'},
    ),
    "rewrite-transform-template": Case(
        {
            "dataFrom": [
                {
                    "extract": ref("payments/db", "nested"),
                    "rewrite": [{"transform": {"template": "DB_{{ .value | upper }}"}}],
                }
            ]
        },
        {"DB_HOST": b"h", "DB_PORT": b"5432"},
    ),
    "invalid-keys-are-refused-with-tip": Case(
        {"dataFrom": [{"extract": ref("payments/extra"), "rewrite": [{"regexp": {"source": "x^", "target": ""}}]}]},
        error="TIP: use rewrite or conversionStrategy",
    ),
    "missing-remote-key": Case(
        {"data": [{"secretKey": "u", "remoteRef": ref("payments/none", "user")}]}, error="key 'payments/none' not found"
    ),
    "missing-property": Case(
        {"data": [{"secretKey": "u", "remoteRef": ref("payments/db", "nope")}]}, error="property 'nope' not found"
    ),
    "template-replaces-provider-data": Case(
        {
            "data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user")}],
            "target": {"template": {"data": {"conn": "{{ .u }}@db"}}},
        },
        {"conn": b"app@db"},
    ),
    "template-merge-policy-keeps-provider-data": Case(
        {
            "data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user")}],
            "target": {"template": {"mergePolicy": "Merge", "data": {"conn": "{{ .u }}@db"}}},
        },
        {"u": b"app", "conn": b"app@db"},
    ),
    "template-without-data-copies-provider-data": Case(
        {
            "data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user")}],
            "target": {"template": {"type": "kubernetes.io/basic-auth"}},
        },
        {"u": b"app"},
    ),
    "template-literal-keys-and-values-then-data-wins": Case(
        {
            "data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user")}],
            "target": {
                "template": {
                    "templateFrom": [{"literal": "a: '{{ .u }}-lit'\nb: kept"}],
                    "data": {"a": "{{ .u }}-data"},
                }
            },
        },
        {"a": b"app-data", "b": b"kept"},
    ),
    "template-from-configmap-values-scope": Case(
        {
            "data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user")}],
            "target": {
                "template": {
                    "templateFrom": [{"configMap": {"name": "tpl", "items": [{"key": "config.yml"}]}}],
                }
            },
        },
        {"config.yml": b"user: app\n"},
        sources={("ConfigMap", "tpl"): {"config.yml": "user: {{ .u }}\n"}},
    ),
    "template-missing-key-is-an-error": Case(
        {
            "data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user")}],
            "target": {"template": {"data": {"x": "{{ .nope }}"}}},
        },
        error="missing key",
    ),
    "creation-policy-merge-keeps-existing-keys": Case(
        {"data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user")}], "target": {"creationPolicy": "Merge"}},
        {"keep": b"me", "u": b"app"},
        existing={"keep": b"me", "u": b"stale"},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_sync_computation(case: Case) -> None:
    fetched = syncing.Fetched(secrets=STORE, found=FOUND)

    def run() -> syncing.TargetSecret:
        return syncing.compute_target(
            es(case.spec),
            fetched,
            engine=ENGINE,
            entropy=os.urandom,
            existing=case.existing,
            template_sources=case.sources,
        )

    if case.error:
        with pytest.raises((SyncError, TemplateError), match=case.error):
            run()
    else:
        assert dict(run().data) == case.want


def test_target_metadata_templates_and_managed_markers() -> None:
    target = syncing.compute_target(
        es(
            {
                "data": [{"secretKey": "u", "remoteRef": ref("payments/db", "user")}],
                "target": {
                    "name": "custom",
                    "template": {
                        "type": "kubernetes.io/basic-auth",
                        "metadata": {"labels": {"owner": "{{ .u }}"}, "annotations": {"note": "for {{ .u }}"}},
                    },
                },
            }
        ),
        syncing.Fetched(secrets=STORE),
        engine=ENGINE,
        entropy=os.urandom,
    )
    assert target.name == "custom"
    assert target.type == "kubernetes.io/basic-auth"
    assert target.labels["owner"] == "app"
    assert target.labels[syncing.MANAGED_LABEL] == "true"
    assert target.annotations["note"] == "for app"
    assert target.annotations[syncing.DATA_HASH_ANNOTATION] == syncing.data_hash(target.data)


def test_plan_fetches_deduplicates_and_collects_finds_and_generators() -> None:
    spec = es(
        {
            "data": [
                {"secretKey": "a", "remoteRef": ref("payments/db", "user")},
                {"secretKey": "b", "remoteRef": ref("payments/db", "pass")},
            ],
            "dataFrom": [
                {"find": {"path": "payments", "name": {"regexp": "^payments/s"}}},
                {"sourceRef": {"generatorRef": {"kind": "Password", "name": "pw"}}},
            ],
        }
    ).spec
    plan = syncing.plan_fetches(spec)
    assert plan.keys == (DB,)
    assert plan.finds == (FIND,)
    assert [g.name for g in plan.generators] == ["pw"]


def test_password_generator_feeds_datafrom() -> None:
    spec = es({"dataFrom": [{"sourceRef": {"generatorRef": {"kind": "Password", "name": "pw"}}}]})
    fetched = syncing.Fetched(passwords={"pw": eso.PasswordSpec(length=20)})
    data = syncing.compute_target(spec, fetched, engine=ENGINE, entropy=os.urandom).data
    assert list(data) == ["password"]
    assert len(data["password"]) == 20


@given(st.text(min_size=1, max_size=40))
def test_converted_keys_are_always_valid_secret_keys(key: str) -> None:
    for strategy in ("Default", "Unicode"):
        assert re.fullmatch(r"[-._a-zA-Z0-9]+", syncing.convert_key(key, strategy))


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=10) | st.integers(), max_size=5))
def test_whole_map_json_is_parseable_and_sorted(secret: dict[str, Any]) -> None:
    encoded = syncing.go_json(secret)
    assert json.loads(encoded) == secret
    assert list(json.loads(encoded)) == sorted(secret)
