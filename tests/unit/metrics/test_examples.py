"""The Deployment and Incident examples in docs/metrics.md are valid records that parse.

Test design notes: every YAML block of the doc holding ``apiVersion: metrics.blacktop.dev/…`` is
validated by the kinds' schemas (the write pipeline's check) and parsed by ``model`` (the report's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from blacktop.kernel.documents import load_documents
from blacktop.kernel.kinds import KindRegistry
from blacktop.metrics import kinds, model

DOC = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"


def examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    found: list[Any] = []
    for block in blocks:
        if "apiVersion: metrics.blacktop.dev" in block:
            # The loader ``blacktop apply -f`` uses (timestamps stay text, as the API receives them).
            found.extend(doc.content for doc in load_documents(block.encode(), source=str(DOC)))
    return [doc for doc in found if isinstance(doc, dict)]


def test_the_doc_has_one_example_per_kind() -> None:
    assert sorted(doc["kind"] for doc in examples()) == ["Deployment", "Incident"]


@pytest.mark.parametrize("document", examples(), ids=lambda d: str(d["kind"]))
def test_doc_examples_are_valid_records(document: dict[str, Any]) -> None:
    registry = KindRegistry()
    for kind in kinds.KINDS:
        registry.register(kind)
    stored = registry.validate(document)
    parse = model.parse_deployment if document["kind"] == "Deployment" else model.parse_incident
    parsed = parse(stored)
    assert parsed.service == "component:default/payment-service"


def test_unquoted_yaml_timestamps_load_as_text() -> None:
    loaded = load_documents(b"finishedAt: 2026-11-20T10:12:40Z\n", source="example.yaml")
    assert loaded[0].content == {"finishedAt": "2026-11-20T10:12:40Z"}
