"""Plain text and Markdown: UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252 (old Windows exports)."""

from __future__ import annotations

from search_svc.formats.limits import ParseLimits, TextBudget, Unreadable


def plain_text(content: bytes, limits: ParseLimits) -> str:
    """The text of a text file; Unreadable when the bytes are binary, not text."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = content.decode("utf-16")
        except UnicodeDecodeError:
            raise Unreadable("text claims UTF-16 but does not decode") from None
    elif b"\x00" in content[:4096]:
        raise Unreadable("binary data, not text, in no format this service reads")
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("cp1252", errors="replace")  # never fails
    budget = TextBudget(limits)
    budget.add(text)
    return budget.text()
