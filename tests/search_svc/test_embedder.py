"""search_svc.embedder: texts are cut to embedding_svc's 100 KB limit on a character boundary."""

from __future__ import annotations

import pytest

from search_svc.embedder import MAX_TEXT_BYTES, clip_for_embedding


@pytest.mark.parametrize("unit", ["a", "é", "€", "😀"])  # 1, 2, 3 and 4 bytes of UTF-8
def test_a_long_text_is_cut_to_the_limit_without_splitting_a_character(unit: str) -> None:
    text = "Nurse. " + unit * (MAX_TEXT_BYTES // len(unit.encode()) + 5)
    clipped = clip_for_embedding(text)
    size = len(clipped.encode("utf-8"))
    assert MAX_TEXT_BYTES - 4 < size <= MAX_TEXT_BYTES and text.startswith(clipped)


def test_texts_within_the_limit_are_unchanged() -> None:
    exact = "x" * MAX_TEXT_BYTES
    assert clip_for_embedding(exact) is exact
    assert clip_for_embedding("é" * (MAX_TEXT_BYTES // 2)) == "é" * (MAX_TEXT_BYTES // 2)
