"""Reading user YAML: JSON-compatible values, and limits that hold before anything is expanded."""

from __future__ import annotations

from typing import Any

import pytest

from blacktop.kernel.documents import Limits, load_documents
from blacktop.kernel.errors import InputError, TooLargeError

VALUES: dict[str, tuple[str, Any]] = {
    "timestamp stays text": ("at: 2026-11-20T10:12:40Z", {"at": "2026-11-20T10:12:40Z"}),
    "timestamp with offset stays text": ("at: 2026-11-20 10:12:40+01:00", {"at": "2026-11-20 10:12:40+01:00"}),
    "date stays text": ("day: 2026-11-20", {"day": "2026-11-20"}),
    "numbers and booleans keep their types": (
        "a: 1\nb: 2.5\nc: true\nd: null",
        {"a": 1, "b": 2.5, "c": True, "d": None},
    ),
    "quoted timestamp is text too": ('at: "2026-11-20T10:12:40Z"', {"at": "2026-11-20T10:12:40Z"}),
}


@pytest.mark.parametrize(("text", "expected"), VALUES.values(), ids=VALUES.keys())
def test_values_are_what_a_json_document_would_hold(text: str, expected: Any) -> None:
    assert load_documents(text.encode())[0].content == expected


def test_a_billion_laughs_is_refused_without_expanding_it() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    with pytest.raises(TooLargeError):
        load_documents(bomb.encode(), limits=Limits(max_aliases=50))


def test_a_syntax_error_names_the_source_and_line() -> None:
    with pytest.raises(InputError) as caught:
        load_documents(b"a: 1\nb: [unclosed\n", source="claim.yaml")
    assert "claim.yaml" in str(caught.value)
