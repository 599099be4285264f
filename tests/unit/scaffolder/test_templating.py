"""``${{ }}`` rendering: whole-value typing, nunjucks compatibility, filters, conditions, loops, outputs.

Test design notes: each row renders one template string against one fixed context and states the
exact Python value expected, so a type change (``3`` vs ``"3"``, ``True`` vs ``"true"``) fails. A
corpus walk renders every ``${{ }}`` value of the 17 corpus templates and the design's template with
sample parameters and fake step outputs, and checks every filter and function they use exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.scaffolder import (
    OMITTED,
    EachItem,
    TemplateRenderer,
    TemplateRenderError,
    build_context,
    is_truthy,
    parse_template,
)
from blacktop.scaffolder.templating import redact, uses_status_functions

from .conftest import TEMPLATES_ROOT, design_template

PARAMS = {
    "name": "payments",
    "replicas": 3,
    "ratio": 1.0,
    "flag": True,
    "off": False,
    "nothing": None,
    "zip": "001",
    "tags": ["a", "b"],
    "obj": {"k": "v", "items": "an item"},
    "repoUrl": "github.com?owner=acme&repo=payments",
    "owner": "group:platform/team-a",
    "enableCI": "Yes",
}
CONTEXT = build_context(
    parameters=PARAMS,
    steps={"publish": {"remoteUrl": "https://git/acme/payments"}, "fetch-base": {"n": 2}},
    user={"ref": "user:default/ada", "entity": {"metadata": {"name": "ada"}}},
    secrets={"TOKEN": "s3cr3t"},
)


@dataclass(frozen=True)
class Case:
    text: str
    want: Any


CASES = {
    "plain-string-untouched": Case("hello", "hello"),
    "whole-number-keeps-type": Case("${{ parameters.replicas }}", 3),
    "whole-bool-keeps-type": Case("${{ parameters.flag }}", True),
    "whole-list-keeps-type": Case("${{ parameters.tags }}", ["a", "b"]),
    "whole-object-keeps-type": Case("${{ parameters.obj }}", {"k": "v", "items": "an item"}),
    "whole-string-of-digits-stays-string": Case("${{ parameters.zip }}", "001"),
    "whole-null-stays-null": Case("${{ parameters.nothing }}", None),
    "whole-undefined-is-omitted": Case("${{ parameters.missing }}", OMITTED),
    "whole-empty-string-literal-stays": Case('${{ "" }}', ""),
    "whole-with-spaces-inside-delimiters": Case("${{parameters.replicas}}", 3),
    "mixed-renders-string": Case("n=${{ parameters.replicas }}", "n=3"),
    "mixed-true-is-lowercase": Case("on: ${{ parameters.flag }}", "on: true"),
    "mixed-false-is-lowercase": Case("on: ${{ parameters.off }}", "on: false"),
    "mixed-null-is-empty": Case("x${{ parameters.nothing }}y", "xy"),
    "mixed-array-joins-with-commas": Case("tags: ${{ parameters.tags }}", "tags: a,b"),
    "mixed-object-like-js": Case("o: ${{ parameters.obj }}", "o: [object Object]"),
    "mixed-integral-float-prints-like-js": Case("r=${{ parameters.ratio }}", "r=1"),
    "mixed-only-undefined-is-omitted": Case("${{ parameters.missing }}${{ parameters.nothing }}", OMITTED),
    "strict-equality": Case('${{ parameters.enableCI === "Yes" }}', True),
    "strict-inequality": Case("${{ parameters.flag !== true }}", False),
    "null-literal": Case("${{ parameters.nothing == null }}", True),
    "inline-if-else": Case("${{ parameters.missing if parameters.missing else '.' }}", "."),
    "or-default": Case("${{ secrets.MISSING or false }}", False),
    "sole-if-block-is-json": Case("{% if parameters.flag %}true{% else %}false{% endif %}", True),
    "sole-if-block-value-json-encoded": Case("{% if parameters.flag %}${{ parameters.replicas }}{% endif %}", 3),
    "sole-if-block-false-without-else": Case("{% if parameters.off %}x{% endif %}", OMITTED),
    "sole-if-block-text-stays-text": Case("{% if parameters.flag %}hello world{% endif %}", "hello world"),
    "dict-key-wins-over-method": Case("${{ parameters.obj.items }}", "an item"),
    "length-property": Case("${{ parameters.tags.length }}", 2),
    "js-string-method": Case("${{ parameters.name.toUpperCase() }}", "PAYMENTS"),
    "js-includes": Case("${{ parameters.tags.includes('a') }}", True),
    "string-plus-number": Case("${{ 'v' + parameters.replicas }}", "v3"),
    "tilde-concat-js-bool": Case("${{ 'x' ~ parameters.flag }}", "xtrue"),
    "steps-output": Case("${{ steps.publish.output.remoteUrl }}", "https://git/acme/payments"),
    "steps-output-dashed-id": Case("${{ steps['fetch-base'].output.n }}", 2),
    "unknown-step-chain-is-omitted": Case("${{ steps.nope.output.x }}", OMITTED),
    "user-ref": Case("${{ user.ref }}", "user:default/ada"),
    "user-entity": Case("${{ user.entity.metadata.name }}", "ada"),
    "parse-repo-url": Case(
        "${{ parameters.repoUrl | parseRepoUrl }}", {"host": "github.com", "owner": "acme", "repo": "payments"}
    ),
    "parse-repo-url-member": Case("${{ (parameters.repoUrl | parseRepoUrl).owner }}", "acme"),
    "pick": Case("${{ parameters.repoUrl | parseRepoUrl | pick('repo') }}", "payments"),
    "project-slug": Case("${{ parameters.repoUrl | projectSlug }}", "acme/payments"),
    "parse-entity-ref": Case(
        "${{ parameters.owner | parseEntityRef }}", {"kind": "group", "namespace": "platform", "name": "team-a"}
    ),
    "parse-entity-ref-defaults": Case(
        "${{ 'team-b' | parseEntityRef({'defaultKind': 'Group'}) | pick('kind') }}", "Group"
    ),
    "dump-compact-json": Case("${{ parameters.obj | dump }}", '{"k":"v","items":"an item"}'),
    "dump-in-text": Case("name: ${{ parameters.name | dump }}", 'name: "payments"'),
    "dump-bool": Case("${{ parameters.flag | dump }}", "true"),
    "builtin-filters": Case("${{ parameters.name | upper | replace('P', 'p') | trim }}", "pAYMENTS"),
    "builtin-default": Case("${{ parameters.missing | default('none') }}", "none"),
    "builtin-join-length-first-last": Case(
        "${{ parameters.tags | join('-') }} ${{ parameters.tags | length }} ${{ parameters.tags | first }}"
        "${{ parameters.tags | last }}",
        "a-b 2 ab",
    ),
    "for-loop-over-object-entries": Case(
        "{% for k, v in parameters.obj %}${{ k }}=${{ v }};{% endfor %}", "k=v;items=an item;"
    ),
    "map-filter-result-is-list": Case("${{ parameters.tags | map('upper') | list }}", ["A", "B"]),
    "elseif-like-nunjucks": Case(
        "{% if parameters.replicas == 1 %}one{% elseif parameters.replicas === 3 %}three{% endif %}", "three"
    ),
    "undefined-name": Case("${{ parameters.missing == undefined }}", True),
    "nl2br": Case("${{ 'a\nb' | nl2br }}", "a<br />\nb"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_render_string(case: Case, renderer: TemplateRenderer) -> None:
    got = renderer.render_string(case.text, CONTEXT)
    assert got == case.want
    assert type(got) is type(case.want)


def test_render_value_drops_omitted_keys_and_keeps_list_slots(renderer: TemplateRenderer) -> None:
    value = {
        "a": "${{ parameters.missing }}",
        "b": ["${{ parameters.missing }}", 1],
        "c": {"d": "${{ parameters.flag }}"},
    }
    assert renderer.render_value(value, CONTEXT) == {"b": [None, 1], "c": {"d": True}}


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        pytest.param(False, False, id="false"),
        pytest.param(None, False, id="null"),
        pytest.param(OMITTED, False, id="undefined"),
        pytest.param("", False, id="empty-string"),
        pytest.param(0, False, id="zero"),
        pytest.param([], False, id="empty-array"),
        pytest.param({}, True, id="empty-object-is-truthy-like-js"),
        pytest.param("false", True, id="string-false-is-truthy"),
        pytest.param(1, True, id="one"),
    ],
)
def test_truthiness_follows_backstage(value: Any, truthy: bool) -> None:
    assert is_truthy(value) is truthy


def test_step_if_and_status_functions(renderer: TemplateRenderer) -> None:
    assert renderer.evaluate_if(None, CONTEXT) is True
    assert renderer.evaluate_if("${{ parameters.off }}", CONTEXT) is False
    assert renderer.evaluate_if("${{ parameters.flag !== true }}", CONTEXT) is False
    assert renderer.evaluate_if("${{ parameters.flag }}", CONTEXT, task_failed=True) is False
    assert renderer.evaluate_if("${{ always() }}", CONTEXT, task_failed=True) is True
    assert renderer.evaluate_if("${{ failure() }}", CONTEXT, task_failed=True) is True
    assert renderer.evaluate_if("${{ failure() }}", CONTEXT, task_failed=False) is False
    assert renderer.evaluate_if("${{ always() and parameters.off }}", CONTEXT, task_failed=True) is False
    assert uses_status_functions("${{ always( ) }}") is True
    assert uses_status_functions(True) is False


def test_each_over_arrays_and_objects(renderer: TemplateRenderer) -> None:
    assert renderer.expand_each("${{ parameters.tags }}", CONTEXT) == [EachItem("0", "a"), EachItem("1", "b")]
    assert renderer.expand_each({"x": 1}, CONTEXT) == [EachItem("x", 1)]
    with pytest.raises(TemplateRenderError, match="must render to an array or an object"):
        renderer.expand_each("${{ parameters.name }}", CONTEXT, path="spec.steps[0].each")
    each_ctx = build_context(parameters=PARAMS, each=EachItem("0", "a"))
    assert renderer.render_string("${{ each.key }}:${{ each.value }}", each_ctx) == "0:a"


def test_output_links_and_text_respect_if(renderer: TemplateRenderer) -> None:
    t = parse_template(
        yaml.safe_load(
            (
                TEMPLATES_ROOT
                / "backstage/plugins/scaffolder-backend/sample-templates/conditional-output-demo/template.yaml"
            ).read_text()
        )
    )
    out = renderer.render_output(
        t.output, build_context(parameters={"name": "svc", "enableCI": "No", "showDetails": True})
    )
    assert [link["title"] for link in out["links"]] == ["Backstage Homepage"]
    assert [text["title"] for text in out["text"]] == ["Summary", "CI Details"]
    assert out["text"][1]["content"] == "**CI enabled:** No\n"


def test_syntax_error_names_the_location(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError, match=r"at spec.steps\[0\].input.x has a syntax error"):
        renderer.render_string("${{ parameters.name | }}", CONTEXT, path="spec.steps[0].input.x")


def test_unknown_filter_is_reported(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError, match="noSuchFilter"):
        renderer.render_string("${{ parameters.name | noSuchFilter }}", CONTEXT)


def test_bad_repo_url_is_a_render_error(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError, match="missing query parameters owner\\+repo"):
        renderer.render_string("${{ 'github.com?repo=x' | parseRepoUrl }}", CONTEXT)


def test_strict_hosts_refuse_unknown_hosts() -> None:
    strict = TemplateRenderer(repo_hosts={"git.internal": "github"}, strict_hosts=True)
    assert strict.render_string("${{ 'git.internal?owner=o&repo=r' | projectSlug }}", CONTEXT) == "o/r"
    with pytest.raises(TemplateRenderError, match=r"no integration is configured for host 'github\.com'"):
        strict.render_string("${{ parameters.repoUrl | parseRepoUrl }}", CONTEXT)


def test_redact_hides_secret_values() -> None:
    assert redact("token=s3cr3t!", {"TOKEN": "s3cr3t"}) == "token=***!"


def test_cookiecutter_and_values_file_rendering(renderer: TemplateRenderer) -> None:
    assert renderer.render_file("${{ values.n }} {{ x }}", {"n": 1}) == "1 {{ x }}"
    assert renderer.render_file("{{ cookiecutter.n }} ${x}", {"n": True}, cookiecutter=True) == "true ${x}"
    assert renderer.render_file("{{ cookiecutter.n | jsonify }}", {"n": {"a": 1}}, cookiecutter=True) == '{"a":1}'
    trimmed = renderer.render_file(
        "{% if values.a %}\n  x\n{% endif %}\n", {"a": True}, trim_blocks=True, lstrip_blocks=True
    )
    assert trimmed == "  x\n"


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)] if "${{" in value or "{%" in value else []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{path}[{i}]")]
    return []


CORPUS_FILES = [*sorted(TEMPLATES_ROOT.rglob("*.yaml")), design_template()]
CORPUS_PARAMS = {
    **PARAMS,
    "name": "svc",
    "serviceName": "svc",
    "component_id": "web",
    "description": "d",
    "targetPath": "docs",
    "cloudProvider": "AWS",
    "dryRun": False,
    "advanced_section": {"replicas": 2, "nested_section": {"port": 80}},
}


CORPUS_IDS = [p.parent.name if p.name == "template.yaml" else p.stem for p in CORPUS_FILES]
CORPUS_IDS = [f"{i}-{n}" for i, n in enumerate(CORPUS_IDS)]


@pytest.mark.parametrize("path", CORPUS_FILES, ids=CORPUS_IDS)
def test_every_corpus_expression_renders(path: Any, renderer: TemplateRenderer) -> None:
    t = parse_template(yaml.safe_load(path.read_text()))
    steps = {
        s.id: {
            "remoteUrl": "https://x",
            "repoContentsUrl": "https://x/tree",
            "entityRef": "component:default/svc",
            "mergeRequestUrl": "https://mr",
        }
        for s in t.steps
    }
    ctx = build_context(parameters=CORPUS_PARAMS, steps=steps, secrets={"USER_OAUTH_TOKEN": "t"})
    values = [s for i, step in enumerate(t.raw["spec"]["steps"]) for s in _strings(step, f"spec.steps[{i}]")]
    values += _strings(t.raw["spec"].get("output") or {}, "spec.output")
    values += [(f"spec.parameters[{i}].when", str(p.when)) for i, p in enumerate(t.parameters) if p.when]
    assert values or path.stem == "wait-action", "every other corpus template uses expressions"
    known = set(renderer.filter_names)
    for where, text in values:
        used, called = renderer.names_used(text)
        assert used <= known, f"{where}: unknown filters {used - known}"
        assert called <= {"always", "failure", "success", "range"}, f"{where}: unknown functions {called}"
        renderer.render_value(text, ctx, path=where)


SHARED = TemplateRenderer()
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(deadline=None)
@given(JSON)
def test_whole_expression_returns_the_value_unchanged(value: Any) -> None:
    got = SHARED.render_string("${{ parameters.v }}", build_context(parameters={"v": value}))
    assert got == value
    assert type(got) is type(value)


@settings(deadline=None)
@given(st.text())
def test_user_values_are_never_rendered_again(text: str) -> None:
    ctx = build_context(parameters={"s": text}, secrets={"TOKEN": "s3cr3t"})
    assert SHARED.render_string("value: ${{ parameters.s }}", ctx) == "value: " + text
    injected = build_context(parameters={"s": "${{ secrets.TOKEN }}"}, secrets={"TOKEN": "s3cr3t"})
    assert SHARED.render_string("${{ parameters.s }}", injected) == "${{ secrets.TOKEN }}"


def test_describe_extensions_lists_backstage_filters(renderer: TemplateRenderer) -> None:
    described = renderer.describe_extensions()
    assert {"parseRepoUrl", "parseEntityRef", "pick", "projectSlug", "dump"} <= set(described["filters"])
    assert "random" not in described["filters"]
    assert all(entry["description"] for entry in described["filters"].values())
    assert {"always", "failure", "range"} <= set(described["globals"]["functions"])
