"""Page tokens: opaque, round-trip, refuse tampering and reuse under another filter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiremesh.errors import InvalidArgument
from search_svc import paging


def test_round_trip() -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    row = str(uuid.uuid4())
    token = paging.encode(when, row, "k1")
    assert paging.decode(token, "k1") == (when, row)
    assert paging.decode("", "k1") is None


def test_token_for_another_filter_is_refused() -> None:
    token = paging.encode(datetime.now(UTC), str(uuid.uuid4()), paging.filter_key("a"))
    with pytest.raises(InvalidArgument, match="different filter"):
        paging.decode(token, paging.filter_key("b"))


@given(st.text(max_size=80))
def test_garbage_tokens_are_invalid_argument_on_page_token(token: str) -> None:
    try:
        paging.decode(token, "k")
    except InvalidArgument as exc:
        assert exc.field == "page_token"


def test_page_size_rules() -> None:
    assert paging.page_size(0) == 50
    assert paging.page_size(10_000) == 500
    with pytest.raises(InvalidArgument):
        paging.page_size(-1)


def test_ids_are_validated() -> None:
    with pytest.raises(InvalidArgument, match="job_id"):
        paging.parse_id("'; DROP TABLE catalog.jobs; --", "job_id")
