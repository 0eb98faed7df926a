"""E-mail address syntax, checked the same way wherever one is accepted (a candidate, a sender).

Deliberately stricter than RFC 5322 (no quoted local parts, no comments, no IP-literal domains, a dotted
domain with an alphabetic top-level label): what a recruiting platform can really send to, and nothing
that could smuggle a second header or recipient into an SMTP envelope.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

MAX_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
# An address never starts inside a run of local-part characters: without the look-behind, searching a long
# run of letters tries every start and rescans the run from each (quadratic; tests/hiremesh/test_linear_regex.py).
_ADDRESS = re.compile(rf"(?<![A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]){_LOCAL}@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}")


def is_email(text: str) -> bool:
    """True for a plain `local@domain.tld` address (Unicode domains allowed, no display name)."""
    return len(text) <= MAX_LENGTH and len(text.partition("@")[0]) <= 64 and _ADDRESS.fullmatch(text) is not None


def parse_sender(text: str) -> tuple[str, str]:
    """(display name, address) of `Name <addr>` or a bare address; ValueError when the address is not one."""
    if any(ch in text for ch in "\r\n"):
        raise ValueError("must be on one line")
    name, address = parseaddr(text)
    if not is_email(address):
        raise ValueError(f"not an e-mail address: {text[:80]!r} (expected name@example.com or Name <name@example.com>)")
    return name, address
