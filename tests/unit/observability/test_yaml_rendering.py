"""Rules files and manifests survive YAML serialisation exactly, whatever the label text."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.observability import prometheus, rules

# Label values and annotations are free text: quotes, colons, '#', newlines, templates, unicode.
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,15}", fullmatch=True)


@settings(max_examples=150)
@given(
    labels=st.dictionaries(names, text, max_size=4),
    annotations=st.dictionaries(names, text, max_size=3),
    expr=text.filter(lambda s: s.strip() != ""),
)
def test_rules_file_round_trips(labels: dict[str, str], annotations: dict[str, str], expr: str) -> None:
    groups = [
        rules.RuleGroup(
            "g",
            (
                rules.RecordingRule(record="r:x", expr=expr, labels=labels),
                rules.AlertingRule(alert="A", expr=expr + "\n> 1\n", labels=labels, annotations=annotations),
            ),
        )
    ]
    text_out = prometheus.render_rules_file(groups, header="line one\n\nline three")
    assert yaml.safe_load(text_out) == rules.groups_to_dict(groups)
    assert text_out.startswith("# line one\n#\n# line three\n\n")
