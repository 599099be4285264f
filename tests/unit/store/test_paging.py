"""Continue tokens round-trip any cursor and refuse tokens from elsewhere."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.errors import InputError
from blacktop.store.paging import Cursor, decode_continue, encode_continue

cursors = st.builds(
    Cursor, namespace=st.text(max_size=63), name=st.text(min_size=1, max_size=253), revision=st.integers(0, 2**62)
)


@given(cursor=cursors, group=st.text(max_size=30), kind=st.text(min_size=1, max_size=30))
def test_tokens_round_trip(cursor: Cursor, group: str, kind: str) -> None:
    token = encode_continue(cursor, group=group, kind=kind)
    assert token.isascii()
    assert decode_continue(token, group=group, kind=kind) == cursor


BAD = {
    "empty": "",
    "not-base64": "%%%",
    "base64-of-text": "aGVsbG8",
    "json-without-fields": "eyJ2IjoxfQ",
    "wrong-version": "eyJ2Ijo5LCJrIjoiZy9LIiwibnMiOiIiLCJuIjoieCIsInJldiI6MX0",
}


@pytest.mark.parametrize("token", BAD.values(), ids=BAD.keys())
def test_malformed_tokens_are_input_errors_on_the_continue_field(token: str) -> None:
    with pytest.raises(InputError) as caught:
        decode_continue(token, group="g", kind="K")
    assert [p.path for p in caught.value.problems] == ["continue"]


def test_a_token_for_another_kind_is_refused() -> None:
    token = encode_continue(Cursor("ns", "a", 3), group="g", kind="Other")
    with pytest.raises(InputError, match="issued for a list of g/Other"):
        decode_continue(token, group="g", kind="K")
