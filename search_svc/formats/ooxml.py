"""DOCX (Office Open XML) to text, read from the package's XML in document order.

Paragraphs, tables (cells joined with " | ", a row per line), text boxes (where they are anchored), headers
first and footers last, footnotes and endnotes after the body. Only the first of an `mc:AlternateContent`'s
choices is read, since Word stores every text box twice (DrawingML and a VML fallback). The package's declared
sizes are checked against the limits before any part is inflated, and lxml runs without entity expansion or
network access.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from search_svc.formats.limits import ParseLimits, TextBudget, Unreadable, open_zip, read_member

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_T, _TAB, _BR, _CR, _P, _TBL, _TR, _TC = (f"{{{W}}}{n}" for n in ("t", "tab", "br", "cr", "p", "tbl", "tr", "tc"))
_NOBREAK_HYPHEN, _SYM = f"{{{W}}}noBreakHyphen", f"{{{W}}}sym"
_SKIP = {f"{{{W}}}{n}" for n in ("delText", "instrText", "rPr", "pPr", "sectPr", "tblPr", "tcPr", "trPr")} | {
    f"{{{MC}}}Fallback"
}
_ALTERNATE = f"{{{MC}}}AlternateContent"
XML_ERR_NO_MEMORY = 2  # libxml2's code when an allocation fails (lxml reports it as a syntax error)
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True, load_dtd=False
)


def docx_text(content: bytes, limits: ParseLimits) -> str:
    """Plain text of a DOCX package; Unreadable says why when it cannot be read."""
    package = open_zip(content, "DOCX", limits)
    with package:
        names = package.namelist()
        if "word/document.xml" not in names:
            raise Unreadable("corrupt or unreadable DOCX: it has no word/document.xml")
        budget = TextBudget(limits)
        parts = [n for n in names if re.fullmatch(r"word/header\d*\.xml", n)]
        parts += ["word/document.xml"]
        parts += [n for n in ("word/footnotes.xml", "word/endnotes.xml") if n in names]
        parts += [n for n in names if re.fullmatch(r"word/footer\d*\.xml", n)]
        seen: set[str] = set()
        for name in parts:
            text = _part_text(read_member(package, name, "DOCX"), name)
            if name != "word/document.xml":
                # Each section repeats its header; an empty or already-seen header adds nothing.
                if not text.strip() or text in seen:
                    continue
                seen.add(text)
            budget.add(text + "\n")
    return budget.text()


def _part_text(xml: bytes, name: str) -> str:
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        if exc.code == XML_ERR_NO_MEMORY:
            raise MemoryError(f"{name} needs more memory than the parser may use") from None
        raise Unreadable(f"corrupt or unreadable DOCX: {name} is not well-formed XML ({exc})") from None
    return "".join(_walk(root))


def _walk(node: etree._Element) -> Iterator[str]:
    for child in node:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == _T:
            yield child.text or ""
        elif tag == _TAB:
            yield "\t"
        elif tag in (_BR, _CR):
            yield "\n"
        elif tag == _NOBREAK_HYPHEN:
            yield "-"
        elif tag == _P:
            yield from _walk(child)
            yield "\n"
        elif tag == _TBL:
            yield from _table(child)
        elif tag == _ALTERNATE:
            choice = next((c for c in child if isinstance(c.tag, str) and c.tag != f"{{{MC}}}Fallback"), None)
            if choice is not None:
                yield from _walk(choice)
        else:
            yield from _walk(child)


def _table(table: etree._Element) -> Iterator[str]:
    for row in table.iter(_TR):
        if _enclosing_table(row) is not table:
            continue  # a nested table's rows are read inside their cell
        cells = [
            "\n".join(line.strip() for line in "".join(_walk(cell)).strip().splitlines() if line.strip())
            for cell in row
            if cell.tag == _TC
        ]
        cells = [c for c in cells if c]
        if not cells:
            continue
        # Short cells read as one line ("Python | 5 years"); a layout table's multi-line cells stay blocks.
        yield (" | ".join(cells) if all("\n" not in c for c in cells) else "\n".join(cells)) + "\n"


def _enclosing_table(row: etree._Element) -> etree._Element | None:
    parent = row.getparent()
    while parent is not None and parent.tag != _TBL:
        parent = parent.getparent()
    return parent
