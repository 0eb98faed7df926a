"""Page tokens (hiremesh.page_tokens): round trip, the tokens services issued before the shared codec, and every
bad token refused as InvalidArgument on `page_token`."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiremesh import page_tokens
from hiremesh.errors import InvalidArgument

WHEN = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
ROW = "6f1c8a52-3d4e-4b7a-9c0d-2e5f6a7b8c9d"
# Issued by search_svc.paging.encode(WHEN, ROW, "a1b2c3d4e5f6") before the codec moved here.
SEARCH_TOKEN = (
    "eyJ0IjoiMjAyNS0wMS0wMlQwMzowNDowNS42Nzg5MDErMDA6MDAiLCJpIjoiNmYxYzhhNTItM2Q0ZS00YjdhLTljMGQtMmU1Zj"
    "ZhN2I4YzlkIiwiayI6ImExYjJjM2Q0ZTVmNiJ9"
)
# Issued by screening_svc.tasks.encode_page_token(WHEN, ROW) before it used this codec.
SCREENING_TOKEN = (
    "eyJjIjogIjIwMjUtMDEtMDJUMDM6MDQ6MDUuNjc4OTAxKzAwOjAwIiwgImkiOiAiNmYxYzhhNTItM2Q0ZS00YjdhLTljMGQtM"
    "mU1ZjZhN2I4YzlkIn0"
)


def refused(token: str, key: str = "") -> InvalidArgument:
    with pytest.raises(InvalidArgument) as err:
        page_tokens.decode(token, key)
    assert err.value.field == "page_token"
    return err.value


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("when", [WHEN, WHEN.astimezone(timezone(timedelta(hours=-8))), datetime(2025, 1, 2)])
@pytest.mark.parametrize("key", ["", page_tokens.filter_key("jobs", "open", "")])
def test_round_trip(when: datetime, key: str) -> None:
    token = page_tokens.encode(when, ROW, key)
    assert "=" not in token and token.isascii()
    assert page_tokens.decode(token, key) == (when, ROW)


def test_an_empty_token_is_the_first_page() -> None:
    assert page_tokens.decode("", "any") is None


def test_search_tokens_are_unchanged() -> None:
    assert page_tokens.encode(WHEN, ROW, "a1b2c3d4e5f6") == SEARCH_TOKEN
    assert page_tokens.decode(SEARCH_TOKEN, "a1b2c3d4e5f6") == (WHEN, ROW)


def test_screening_tokens_issued_before_the_codec_still_decode() -> None:
    assert page_tokens.decode(SCREENING_TOKEN) == (WHEN, ROW)
    assert "different filter" in refused(SCREENING_TOKEN, "a1b2c3d4e5f6").message


def test_a_token_for_another_filter_is_refused() -> None:
    token = page_tokens.encode(WHEN, ROW, page_tokens.filter_key("a"))
    assert "different filter" in refused(token, page_tokens.filter_key("b")).message
    assert "different filter" in refused(token).message


@pytest.mark.parametrize(
    "token",
    [
        SEARCH_TOKEN[:-7],  # truncated
        SEARCH_TOKEN[:10] + ("A" if SEARCH_TOKEN[10] != "A" else "B") + SEARCH_TOKEN[11:],  # one character changed
        "garbage!",
        "====",
        "é",
        b64({"t": WHEN.isoformat(), "i": "not-a-uuid", "k": ""}),
        b64({"t": WHEN.isoformat(), "i": 5, "k": ""}),  # a number where the id goes
        b64({"t": "yesterday", "i": ROW, "k": ""}),
        b64({"i": ROW, "k": ""}),
        b64([WHEN.isoformat(), ROW]),
        b64("t"),
        b64(None),
        b64(7),
        base64.urlsafe_b64encode(b"\xff\xfe{").decode(),
        base64.urlsafe_b64encode(b"[" * 100_000).decode(),
    ],
)
def test_tampered_and_garbage_tokens_are_invalid_argument(token: str) -> None:
    assert refused(token, "k").message.endswith(("malformed page token", "issued for a different filter"))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("tick"), inner, max_size=4),
    max_leaves=12,
)


@given(st.one_of(st.text(max_size=120), _JSON.map(b64)))
def test_no_token_raises_anything_but_invalid_argument(token: str) -> None:
    try:
        decoded = page_tokens.decode(token, "k")
    except InvalidArgument as exc:
        assert exc.field == "page_token"
    else:
        assert decoded is None or str(uuid.UUID(decoded[1])) == decoded[1]
