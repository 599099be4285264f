"""``templateFrom`` sources through the running engine: a ConfigMap and a platform Secret in the
ExternalSecret's namespace hold the templates; a missing key reports Ready=False naming it.

Test design: the ConfigMap is applied through ``/api/v1/platform/apply`` (what ``blacktop apply -f``
calls; the core group has no ``/apis/{group}`` path). The template Secret is itself the target of
another ExternalSecret, the way a team would publish a template without writing values by hand.
"""

from __future__ import annotations

import httpx

from .conftest import ESO, eventually, ready_condition
from .test_rotation_and_fanout import _target_value

GRAFANA_TEMPLATE = 'url: "{{ .uri }}"\nuser: "{{ .user }}"\n'


async def _config_map(admin: httpx.AsyncClient, data: dict[str, str]) -> None:
    """Apply a core v1 ConfigMap the way ``blacktop apply -f`` does."""
    document = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "grafana-tpl", "namespace": "payments"}, "data": data}  # fmt: skip
    body = {"kind": "ApplyRequest", "documents": [{"source": "grafana-tpl.yaml:1", "object": document}]}
    response = await admin.post("/api/v1/platform/apply", json=body)
    assert response.is_success, response.text


async def test_config_map_and_secret_sourced_templates_render_into_the_target(
    admin: httpx.AsyncClient,
) -> None:
    await admin.post("/api/v1/secrets/data/payments/grafana", json={"data": {"user": "admin", "uri": "oci://g"}})
    await admin.post("/api/v1/secrets/data/payments/tpl", json={"data": {"dsn": "dsn: '{{ .user }}@{{ .uri }}'"}})
    store = {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore",
             "metadata": {"name": "embedded", "namespace": "payments"},
             "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    assert (await admin.post(f"{ESO}/namespaces/payments/secretstores", json=store)).is_success
    await _config_map(admin, {"config.yaml": GRAFANA_TEMPLATE, "labels": "team: '{{ .user }}'"})
    publisher = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                 "metadata": {"name": "dsn-template", "namespace": "payments"},
                 "spec": {"refreshInterval": "1m", "secretStoreRef": {"name": "embedded"},
                          "dataFrom": [{"extract": {"key": "payments/tpl"}}]}}  # fmt: skip
    assert (await admin.post(f"{ESO}/namespaces/payments/externalsecrets", json=publisher)).status_code == 201
    await eventually(lambda: _target_value(admin, "payments", "dsn-template", "dsn"))
    consumer = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                "metadata": {"name": "grafana", "namespace": "payments"},
                "spec": {"refreshInterval": "1m", "secretStoreRef": {"name": "embedded"},
                         "dataFrom": [{"extract": {"key": "payments/grafana"}}],
                         "target": {"template": {"templateFrom": [
                             {"configMap": {"name": "grafana-tpl", "items": [{"key": "config.yaml"}]}},
                             {"target": "Labels", "configMap": {"name": "grafana-tpl",
                              "items": [{"key": "labels", "templateAs": "KeysAndValues"}]}},
                             {"secret": {"name": "dsn-template",
                                         "items": [{"key": "dsn", "templateAs": "KeysAndValues"}]}},
                         ]}}}}  # fmt: skip
    assert (await admin.post(f"{ESO}/namespaces/payments/externalsecrets", json=consumer)).status_code == 201

    config = await eventually(lambda: _target_value(admin, "payments", "grafana", "config.yaml"))
    assert config == 'url: "oci://g"\nuser: "admin"\n'
    assert await _target_value(admin, "payments", "grafana", "dsn") == "admin@oci://g"
    target = (await admin.get("/apis/secrets.blacktop.dev/v1alpha1/namespaces/payments/secrets/grafana")).json()
    assert target["metadata"]["labels"]["team"] == "admin"
    assert sorted(target["spec"]["keys"]) == ["config.yaml", "dsn"]
    audit = await admin.get("/api/v1/audit/records", params={"limit": 10000})
    verbs = {(r["verb"], r["name"]) for r in audit.json()["items"]}
    assert ("secret-sync-read", "platform/data/payments/dsn-template") in verbs
    assert "{{ .user }}@{{ .uri }}" not in audit.text


async def test_a_missing_template_key_reports_ready_false_naming_source_and_key(
    admin: httpx.AsyncClient,
) -> None:
    await admin.post("/api/v1/secrets/data/payments/grafana", json={"data": {"user": "admin"}})
    store = {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore",
             "metadata": {"name": "embedded", "namespace": "payments"},
             "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    assert (await admin.post(f"{ESO}/namespaces/payments/secretstores", json=store)).is_success
    await _config_map(admin, {"config.yaml": GRAFANA_TEMPLATE})
    consumer = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                "metadata": {"name": "grafana", "namespace": "payments"},
                "spec": {"refreshInterval": "1m", "secretStoreRef": {"name": "embedded"},
                         "dataFrom": [{"extract": {"key": "payments/grafana"}}],
                         "target": {"template": {"templateFrom": [
                             {"configMap": {"name": "grafana-tpl", "items": [{"key": "nope.yaml"}]}},
                         ]}}}}  # fmt: skip
    assert (await admin.post(f"{ESO}/namespaces/payments/externalsecrets", json=consumer)).status_code == 201

    async def failed() -> dict[str, object] | None:
        es = (await admin.get(f"{ESO}/namespaces/payments/externalsecrets/grafana")).json()
        condition = ready_condition(es)
        return condition if condition and condition.get("status") == "False" else None

    condition = await eventually(failed)
    assert "ConfigMap payments/grafana-tpl has no key 'nope.yaml'" in str(condition["message"])
    assert await _target_value(admin, "payments", "grafana", "config.yaml") is None
