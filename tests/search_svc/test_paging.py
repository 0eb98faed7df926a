"""Page sizes and ids of search requests (the page tokens: tests/hiremesh/test_page_tokens.py)."""

from __future__ import annotations

import pytest

from hiremesh.errors import InvalidArgument
from search_svc import paging


def test_page_size_rules() -> None:
    assert paging.page_size(0) == 50
    assert paging.page_size(10_000) == 500
    with pytest.raises(InvalidArgument):
        paging.page_size(-1)


def test_ids_are_validated() -> None:
    with pytest.raises(InvalidArgument, match="job_id"):
        paging.parse_id("'; DROP TABLE catalog.jobs; --", "job_id")
