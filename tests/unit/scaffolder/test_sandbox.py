"""Sandbox escapes and resource exhaustion are refused loudly, never rendered silently.

Test design notes: each escape is a known Jinja SSTI payload shape (attribute walks to
``__globals__``/``__subclasses__``, ``attr`` and ``format`` side doors, mutation of context objects).
Each must raise ``SandboxViolation`` whose message names the refused attribute, not render ``""`` as a
plain ChainableUndefined would. Resource limits are checked with small limits and a fake clock so the
tests are fast and deterministic.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from blacktop.scaffolder import (
    RenderLimitExceeded,
    RenderLimits,
    SandboxViolation,
    TemplateRenderer,
    TemplateRenderError,
    build_context,
)

CONTEXT = build_context(parameters={"tags": ["a"], "obj": {"k": "v"}, "name": "x"})

ESCAPES = {
    "str-class": "${{ ''.__class__ }}",
    "mro-subclasses": "${{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler-globals": "${{ cycler.__init__.__globals__ }}",
    "joiner-globals-os": "${{ joiner.__init__.__globals__.os }}",
    "self-dict": "${{ self.__dict__ }}",
    "self-private-context": "${{ self._TemplateReference__context }}",
    "parameters-class": "${{ parameters.__class__ }}",
    "undefined-globals": "${{ lipsum.__globals__ }}",
    "subscript-dunder": "${{ parameters['name']['__class__'] }}",
    "attr-filter": "${{ '' | attr('__class__') }}",
    "format-side-door": "${{ '{0.__class__}'.format(parameters) }}",
    "percent-format": "${{ '%s' % parameters }}",
    "list-append-mutates": "${{ parameters.tags.append('b') }}",
    "dict-update-mutates": "${{ parameters.obj.update({'k': 'w'}) }}",
    "in-mixed-text": "hello ${{ ''.__class__.__base__ }}",
    "in-statement": "{% for c in ''.__class__.__mro__ %}x{% endfor %}",
    "map-attribute": "${{ parameters.tags | map(attribute='__class__') | list }}",
    "sort-attribute": "${{ parameters.tags | sort(attribute='__class__') }}",
    "str-format-method": "${{ 'x{0}'.format(1) }}",
}


@pytest.mark.parametrize("text", ESCAPES.values(), ids=ESCAPES.keys())
def test_sandbox_escape_is_refused(text: str) -> None:
    with pytest.raises(SandboxViolation) as caught:
        TemplateRenderer().render_string(text, CONTEXT, path="spec.steps[0].input.message")
    message = str(caught.value)
    assert "refused by the sandbox" in message
    assert "spec.steps[0].input.message" in message


def test_escape_in_skeleton_file_is_refused() -> None:
    with pytest.raises(SandboxViolation):
        TemplateRenderer().render_file("${{ values.__class__ }}", {"a": 1}, path="skeleton file 'x'")
    with pytest.raises(SandboxViolation):
        TemplateRenderer().render_file("{{ cookiecutter.__class__ }}", {"a": 1}, cookiecutter=True)


LIMITS = RenderLimits(max_seconds=60, max_steps=20_000, max_output_chars=100_000, max_range=1_000)
EXHAUSTION = {
    "huge-range": "${{ range(10**9) | list }}",
    "range-over-limit": "${{ range(1001) | list }}",
    "huge-power": "${{ 10 ** 100000000 }}",
    "string-repeat": "${{ 'a' * 1000000 }}",
    "list-repeat": "${{ [1] * 1000000 }}",
    "nested-loops": "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
    "output-size": "{% for i in range(1000) %}${{ 'x' * 1000 }}{% endfor %}",
    "concat-growth": "${{ ('x' * 60000) ~ ('x' * 60000) }}",
    "filter-growth": "${{ ('x' * 60000) | replace('x', 'xx') }}",
    "format-width": "${{ 'x' | center(100000000) }}",
    "indent-width": "${{ 'a\nb' | indent(100000000) }}",
    "replace-growth-planned": "${{ ('a' * 90000) | replace('a', 'aaaaaaaaaa') }}",
    "join-growth-planned": "${{ ([('x' * 90000)] * 5) | join('') }}",
    "recursive-macro": "{% macro f() %}${{ f() }}{% endmacro %}${{ f() }}",
}


@pytest.mark.parametrize("text", EXHAUSTION.values(), ids=EXHAUSTION.keys())
def test_resource_exhaustion_is_refused(text: str) -> None:
    with pytest.raises(RenderLimitExceeded):
        TemplateRenderer(limits=LIMITS).render_string(text, CONTEXT)


def fake_clock(step: float) -> Callable[[], float]:
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


def test_render_time_budget_uses_the_injected_clock() -> None:
    renderer = TemplateRenderer(limits=RenderLimits(max_seconds=5), clock=fake_clock(1.0))
    assert renderer.render_string("${{ parameters.name }}", CONTEXT) == "x"
    with pytest.raises(RenderLimitExceeded, match="ran longer than 5 s"):
        renderer.render_string("{% for i in range(10) %}${{ i }}{% endfor %}", CONTEXT)


def test_includes_and_imports_have_nothing_to_load() -> None:
    with pytest.raises(TemplateRenderError):
        TemplateRenderer().render_string("{% include '/etc/passwd' %}", CONTEXT)
    with pytest.raises(TemplateRenderError):
        TemplateRenderer().render_string("{% import 'os' as os %}", CONTEXT)


def test_random_and_lipsum_are_not_available() -> None:
    renderer = TemplateRenderer()
    assert "random" not in renderer.filter_names
    with pytest.raises(TemplateRenderError):
        renderer.render_string("${{ [1, 2] | random }}", CONTEXT)


def test_large_filter_inputs_are_fine() -> None:
    ctx = build_context(parameters={"port": 3_000_000_000})
    assert TemplateRenderer(limits=LIMITS).render_string("${{ parameters.port | string }}", ctx) == "3000000000"


def test_join_prints_like_nunjucks() -> None:
    ctx = build_context(parameters={"flags": [True, None, 1.0]})
    assert TemplateRenderer().render_string("${{ parameters.flags | join('|') }}", ctx) == "true||1"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("${{ 'x' | center(100000000) }}", id="constant-width"),
        pytest.param("${{ ('a' * 90000) | replace('a', 'aaaaaaaaaa') }}", id="constant-replace"),
    ],
)
def test_oversized_results_are_refused_before_they_are_built(text: str) -> None:
    # Constant arguments must not be folded at compile time, outside the budget.
    with pytest.raises(RenderLimitExceeded, match="would produce"):
        TemplateRenderer(limits=LIMITS).render_string(text, CONTEXT)
