"""E-mail address syntax, checked the same way wherever one is accepted (a candidate, a sender).

Deliberately stricter than RFC 5322 (no quoted local parts, no comments, no IP-literal domains, a dotted
domain with an alphabetic top-level label): what a recruiting platform can really send to, and nothing
that could smuggle a second header or recipient into an SMTP envelope.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

__all__ = ["ADDRESS", "MAX_LENGTH", "MAX_LOCAL", "is_email", "parse_sender"]

MAX_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL = 64  # RFC 5321 local-part limit
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
# The lookahead bounds the local part (as is_email does) before it is matched: without it, searching a long
# run of letters with no '@' rescans the rest of the run from every start position (quadratic); with it,
# each position costs at most MAX_LOCAL + 1 characters.
_LOCAL = rf"(?=[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]{{1,{MAX_LOCAL}}}@){_ATOM}+(?:\.{_ATOM}+)*"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
ADDRESS = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}")


def is_email(text: str) -> bool:
    """True for a plain `local@domain.tld` address (Unicode domains allowed, no display name)."""
    return len(text) <= MAX_LENGTH and len(text.partition("@")[0]) <= MAX_LOCAL and ADDRESS.fullmatch(text) is not None


def parse_sender(text: str) -> tuple[str, str]:
    """(display name, address) of `Name <addr>` or a bare address; ValueError when the address is not one."""
    if any(ch in text for ch in "\r\n"):
        raise ValueError("must be on one line")
    name, address = parseaddr(text)
    if not is_email(address):
        raise ValueError(f"not an e-mail address: {text[:80]!r} (expected name@example.com or Name <name@example.com>)")
    return name, address
