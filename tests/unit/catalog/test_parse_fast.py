"""The fast descriptor parser reads exactly what the reference parser reads.

Test design notes: ``refreshing.parse_fast`` composes with libyaml, memoises implicit tag resolution
per file and pauses the cyclic GC; ``processing.parse_descriptor`` is the pure-Python reference.
Hypothesis writes multi-document YAML whose plain scalars include every implicit type PyYAML
resolves (booleans in all spellings, null, ints in several bases, floats, timestamps, merge keys),
repeated so that memoised answers are reused; documents, their order, start lines, the line of
each top-level field and problems must be equal.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.catalog import processing, refreshing

PLAIN = [
    "yes", "No", "TRUE", "off", "On", "~", "null", "Null", "", "0x1F", "0o17", "017", "1_000", "-42", "+7", "3.14",
    "1e3", ".inf", "-.Inf", ".NaN", "2026-11-26", "2026-11-26 12:30:00", "<<", "=", "payments", "team-a", "a b",
]  # fmt: skip
scalars = st.sampled_from(PLAIN) | st.text(alphabet="abcxyz019-_ .:", max_size=8)
keys = st.sampled_from(["name", "owner", "type", "yes", "on", "1", "<<", "tags", "2026-01-01"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        fields = draw(st.dictionaries(keys, st.lists(scalars, max_size=3) | scalars, min_size=1, max_size=4))
        if draw(st.booleans()):
            lines.append("---")
        for key, value in fields.items():
            if isinstance(value, list):
                lines.append(f"{key}:")
                lines.extend(f"  - {_plain(v)}" for v in value)
            else:
                lines.append(f"{key}: {_plain(value)}")
        lines.append("---")
    return "\n".join(lines) + "\n"


def _plain(value: str) -> str:
    """A plain scalar where YAML allows one, else a quoted one (still a string)."""
    try:
        if yaml.safe_load(f"k: {value}") is not None or value in ("", "~", "null", "Null"):
            return value
    except yaml.YAMLError:
        pass
    return repr(value)


def view(result: processing.ParseResult) -> tuple[Any, ...]:
    docs = [
        (d.index, d.line, d.document, {k: d.line_of(str(k)) for k in d.document}) for d in result.documents
    ]  # fmt: skip
    return docs, [(p.path, p.line) for p in result.problems]


@settings(max_examples=200, deadline=None)
@given(text=documents())
def test_fast_parser_reads_what_the_reference_reads(text: str) -> None:
    try:
        want = view(processing.parse_descriptor(text, source="x.yaml"))
    except (yaml.YAMLError, TypeError, ValueError) as exc:  # the reference refuses it: so must the fast one
        with pytest.raises(type(exc)):
            view(refreshing.parse_fast(text, source="x.yaml"))
        return
    assert view(refreshing.parse_fast(text, source="x.yaml")) == want
