"""screening_svc.engines.prompts: every spelling of a fence tag inside third-party text is defused."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from screening_svc.engines.prompts import JOB_TAG, RESUME_TAG, defuse

# The pattern before the linear-time rewrite (quadratic on "<" and a long run of spaces), as reference.
PLAIN = re.compile(rf"<\s*/?\s*(?:{JOB_TAG}|{RESUME_TAG})\b", re.IGNORECASE)


def plain_defuse(text: str) -> str:
    return PLAIN.sub(lambda m: "‹" + m.group(0)[1:], text)


@pytest.mark.parametrize("tag", ["</resume>", "< / RESUME >", "<\n\tjob_posting>", "</ job_posting", "<Resume x>"])
def test_each_spelling_of_a_fence_tag_is_broken(tag: str) -> None:
    out = defuse(f"before {tag} after")
    assert out == f"before ‹{tag[1:]} after" and "<" not in out


def test_other_tags_and_longer_names_stay() -> None:
    text = "<b>bold</b> <resumes> </job_postings> a < b"
    assert defuse(text) == text


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from(["<", "/", " ", "\n", ">", "resume", "RESUME", "job_posting", "x", "s"]), max_size=40).map(
        "".join
    )
)
def test_same_result_as_the_plain_pattern(text: str) -> None:
    assert defuse(text) == plain_defuse(text)
