"""hiremesh.mailaddr: the linear-time address pattern accepts exactly what the plain one did."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiremesh.mailaddr import ADDRESS, MAX_LENGTH, MAX_LOCAL, is_email

# The pattern before the bounded lookahead (quadratic under finditer over a long run of letters), as reference.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
PLAIN = re.compile(rf"{_ATOM}+(?:\.{_ATOM}+)*@(?:[^\W_](?:[\w-]{{0,61}}[^\W_])?\.)+[^\W\d_]{{2,63}}")


def plain_is_email(text: str) -> bool:
    return len(text) <= MAX_LENGTH and len(text.partition("@")[0]) <= MAX_LOCAL and PLAIN.fullmatch(text) is not None


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("ada@example.com", True),
        ("a.b+tag@mail.example.co.uk", True),
        ("ada@münchen.de", True),
        ("x" * 64 + "@example.com", True),
        ("x" * 65 + "@example.com", False),
        ("a..b@example.com", False),
        (".a@example.com", False),
        ("a.@example.com", False),
        ("ada@example", False),
        ("ada@example.c", False),
        ("ada@-example.com", False),
        ("José@example.com", False),
        ("ada@@example.com", False),
        ("a@b.com\r\nBcc: x@y.com", False),
    ],
)
def test_addresses(text: str, ok: bool) -> None:
    assert is_email(text) is ok and plain_is_email(text) is ok


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="ab7.-_+@éü", max_size=90))
def test_same_verdict_as_the_plain_pattern(text: str) -> None:
    assert is_email(text) == plain_is_email(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 80), st.integers(1, 3))
def test_same_verdict_around_the_local_part_limit(local: int, labels: int) -> None:
    text = "a" * local + "@" + "b." * labels + "org"
    assert is_email(text) == plain_is_email(text) == (local <= MAX_LOCAL)


def test_search_finds_the_same_addresses_in_running_text() -> None:
    text = "Write to ada@example.com or bo.li+jobs@mail.example.org; not to a..b@x or @example.com."
    assert (
        [m.group(0) for m in ADDRESS.finditer(text)]
        == [m.group(0) for m in PLAIN.finditer(text)]
        == ["ada@example.com", "bo.li+jobs@mail.example.org"]
    )
