"""Input limits: 1..256 texts, non-blank, at most 100 KB each, errors naming the index."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedding_svc.validation import MAX_TEXT_BYTES, check_texts
from hiremesh.errors import InvalidArgument


@given(st.lists(st.text(min_size=1, max_size=200).filter(lambda t: t.strip() != ""), min_size=1, max_size=256))
def test_valid_batches_pass(texts: list[str]) -> None:
    check_texts(texts)


@given(st.lists(st.text(min_size=1, max_size=50).filter(lambda t: t.strip() != ""), min_size=1, max_size=20), st.data())
def test_blank_text_names_its_index(texts: list[str], data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(texts)))
    texts.insert(index, data.draw(st.sampled_from(["", " ", "\n\t "])))
    with pytest.raises(InvalidArgument) as caught:
        check_texts(texts)
    assert caught.value.field == f"texts[{index}]"


def test_empty_request_and_too_many_texts() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_texts([])
    assert caught.value.field == "texts"
    with pytest.raises(InvalidArgument) as caught:
        check_texts(["a"] * 257)
    assert caught.value.field == "texts[256]"


def test_size_limit_counts_utf8_bytes() -> None:
    check_texts(["a" * MAX_TEXT_BYTES])
    with pytest.raises(InvalidArgument) as caught:
        check_texts(["ok", "a" * (MAX_TEXT_BYTES + 1)])
    assert caught.value.field == "texts[1]"
    # 3 bytes per character: under the limit in characters, over it in bytes.
    with pytest.raises(InvalidArgument) as caught:
        check_texts(["€" * (MAX_TEXT_BYTES // 3 + 1)])
    assert caught.value.field == "texts[0]"
