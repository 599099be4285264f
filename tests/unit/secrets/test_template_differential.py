"""Differential test of blacktop's Go template engine (gotpl + ESO function map) against the real
Go ``text/template`` + Sprig, shipped on PyPI as the ``gotp`` CLI (a dev dependency, used only as
an oracle).

Test design: templates come from the ESO docs snippets (``target.template.data``, label and
annotation templates, ``templateFrom[].literal``, template ConfigMaps and ``rewrite.transform``),
plus hand-written cases for the Sprig functions ESO users rely on. Sample data is built from the
keys each template reads (JSON where it calls ``fromJson``, base64 where it calls ``b64dec``).
Both engines run with missing keys as errors (ESO's ``missingkey=error``; gotp ``--strict``).
Expected: identical output, or both fail. Templates calling ESO-only functions (no oracle exists)
are checked separately: blacktop either implements them or refuses them by name.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from blacktop.secrets.errors import TemplateError
from blacktop.secrets.templating import NOT_IMPLEMENTED, TemplateEngine

CORPUS = (Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "eso").resolve()
ENGINE = TemplateEngine(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), entropy=os.urandom)
ESO_ONLY = NOT_IMPLEMENTED | {"toYaml", "fromYaml", "filterPEM", "filterCertChain", "certSANs"}
NONDETERMINISTIC = {"now", "randAlphaNum", "randAlpha", "randNumeric", "randAscii", "uuidv4", "date", "genCA"}
_FIELD = re.compile(r"(?<![\w)\]\"'`])\.([A-Za-z_]\w*)")
_INDEX = re.compile(r"index\s+\.\s+\"([^\"]+)\"")
_FUNC = re.compile(r"[\s|(]([a-zA-Z][a-zA-Z0-9]*)\b")


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    data: dict[str, Any]


def gotp_binary() -> str:
    found = shutil.which("gotp") or str(Path(sys.executable).with_name("gotp"))
    if not Path(found).exists():
        pytest.fail("the gotp oracle is missing: install the dev dependency with `pip install gotp`")
    return found


def sample_data(source: str) -> dict[str, Any]:
    """Values for every key the template reads, shaped by how it uses them."""
    data: dict[str, Any] = {}
    for key in set(_FIELD.findall(source)) | set(_INDEX.findall(source)):
        if re.search(r"fromJson\s+\.?" + re.escape(key) + r"\b", source):
            data[key] = json.dumps({"first": "Ada", "middle": "K", "last": "Lovelace", "x": 1})
        elif re.search(re.escape(key) + r"\"?\s*\|\s*b64dec", source):
            data[key] = base64.b64encode(f"decoded-{key}".encode()).decode()
        else:
            data[key] = f"sample-{key}"
    return data


def _templates_in(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "ClusterExternalSecret":
        spec = spec.get("externalSecretSpec") or {}
    if doc.get("kind") == "ConfigMap":
        for key, value in (doc.get("data") or {}).items():
            if isinstance(value, str) and "{{" in value:
                yield f"configmap.{key}", value, None
        return
    if doc.get("kind") not in ("ExternalSecret", "ClusterExternalSecret"):
        return
    template = (spec.get("target") or {}).get("template") or {}
    if template.get("engineVersion") == "v1":
        return  # engine v1 is gone from ESO; such documents are refused at parse time
    for key, value in (template.get("data") or {}).items():
        yield f"data.{key}", str(value), None
    for part in ("labels", "annotations"):
        for key, value in ((template.get("metadata") or {}).get(part) or {}).items():
            yield f"{part}.{key}", str(value), None
    for i, item in enumerate(template.get("templateFrom") or []):
        if item.get("literal"):
            yield f"templateFrom[{i}].literal", item["literal"], None
    for i, entry in enumerate(spec.get("dataFrom") or []):
        for j, rule in enumerate(entry.get("rewrite") or []):
            if (rule.get("transform") or {}).get("template"):
                yield f"dataFrom[{i}].rewrite[{j}]", rule["transform"]["template"], {"value": "db-password/main"}


def snippet_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted((CORPUS / "docs-snippets").glob("*.yaml")):
        text = path.read_text().replace("{% raw %}", "").replace("{% endraw %}", "")
        try:
            docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
        except yaml.YAMLError:
            continue
        for doc in docs:
            for where, source, data in _templates_in(doc):
                cases.append(Case(f"{path.stem}:{where}", source, data or sample_data(source)))
    return cases


HAND_WRITTEN = [
    Case("pipeline-upper-b64", "{{ .a | upper | b64enc }}", {"a": "x"}),
    Case("printf-b64-auth", '{{ printf "%s:%s" .user .pass | b64enc }}', {"user": "u", "pass": "p"}),
    Case("index-dashed-key", '{{ index . "my-key" | quote }}', {"my-key": "v"}),
    Case("default-empty", '{{ .a | default "fallback" }}', {"a": ""}),
    Case("replace-trim", '{{ .a | trim | replace "-" "_" }}', {"a": "  a-b-c  "}),
    Case("tojson-dict", '{{ dict "u" .a "p" .b | toJson }}', {"a": "1", "b": "<&>"}),
    Case("fromjson-field", "{{ (fromJson .j).name }}", {"j": '{"name": "n", "n": 2}'}),
    Case("sha256", "{{ .a | sha256sum }}", {"a": "hash me"}),
    Case("split-join", '{{ splitList "," .a | join ";" }}', {"a": "a,b,c"}),
    Case("nindent", "key:{{ .a | nindent 2 }}", {"a": "line1\nline2"}),
    Case("ternary", '{{ ternary "yes" "no" (eq .a "x") }}', {"a": "x"}),
    Case("regex-replace", '{{ regexReplaceAll "[0-9]+" .a "N" }}', {"a": "a1b22"}),
    Case("if-else-range", "{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}", {"b": "2", "a": "1"}),
    Case("with-and-trim-markers", "{{- with .a }} [{{ . }}] {{- end }}", {"a": "z"}),
    Case("b64dec-toString", "{{ .a | b64dec | toString }}", {"a": base64.b64encode(b"plain").decode()}),
    Case("missing-key-fails", "{{ .missing }}", {"a": "x"}),
    Case("unknown-function-fails", "{{ .a | notAFunction }}", {"a": "x"}),
    Case("syntax-error-fails", "{{ .a ", {"a": "x"}),
]


def functions_in(source: str) -> set[str]:
    return set(_FUNC.findall(source))


def run_go(source: str, data: dict[str, Any]) -> str | None:
    proc = subprocess.run(
        [gotp_binary(), "render", "--text", "--sprig", "--strict", "-", "-d", json.dumps(data)],
        input=source.encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    return proc.stdout.decode() if proc.returncode == 0 else None


def run_ours(source: str, data: dict[str, Any]) -> str | None:
    try:
        return ENGINE.render(source, data)
    except TemplateError:
        return None


SNIPPET_CASES = snippet_cases()
ORACLE_CASES = [c for c in SNIPPET_CASES + HAND_WRITTEN if not functions_in(c.source) & ESO_ONLY]
ESO_ONLY_CASES = [c for c in SNIPPET_CASES if functions_in(c.source) & ESO_ONLY]


def test_enough_templates_were_extracted() -> None:
    assert len(SNIPPET_CASES) >= 40
    assert len(ORACLE_CASES) >= 50


@pytest.mark.parametrize("case", ORACLE_CASES, ids=[c.name for c in ORACLE_CASES])
def test_engine_matches_go_text_template(case: Case) -> None:
    go = run_go(case.source, case.data)
    ours = run_ours(case.source, case.data)
    if go is None:
        assert ours is None, f"Go fails on {case.source!r} but blacktop rendered {ours!r}"
    elif functions_in(case.source) & NONDETERMINISTIC:
        assert ours is not None
    else:
        assert ours == go


@pytest.mark.parametrize("case", ESO_ONLY_CASES, ids=[c.name for c in ESO_ONLY_CASES])
def test_eso_only_functions_are_implemented_or_refused_by_name(case: Case) -> None:
    missing = sorted(functions_in(case.source) & NOT_IMPLEMENTED)
    if missing:
        with pytest.raises(TemplateError, match="|".join(missing)):
            ENGINE.render(case.source, case.data)
    else:
        # Implemented ESO functions may still fail on sample data, but never as "unknown function".
        message = ""
        try:
            ENGINE.render(case.source, case.data)
        except TemplateError as exc:
            message = str(exc)
        assert "not defined" not in message


@pytest.mark.parametrize("name", ["env", "expandenv", "getHostByName"])
def test_functions_removed_by_eso_are_unknown(name: str) -> None:
    with pytest.raises(TemplateError, match=f"'{name}' not defined"):
        ENGINE.render(f'{{{{ {name} "x" }}}}', {})
