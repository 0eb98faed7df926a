"""ODT (OpenDocument text) to text, read from content.xml (and the page headers/footers in styles.xml).

odfpy is not used to read: on a malformed part it prints the whole XML (the resume) to stdout, then carries on
with whatever it parsed, which would put candidates' text in service logs and hide the damage. The package's
declared sizes are checked against the limits before any part is inflated; lxml runs without entity expansion.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from search_svc.formats.limits import ParseLimits, TextBudget, Unreadable, open_zip, read_member

TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
STYLE_NS = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_P, _H, _S, _TAB, _BREAK = (f"{{{TEXT_NS}}}{n}" for n in ("p", "h", "s", "tab", "line-break"))
_ROW, _CELL = f"{{{TABLE_NS}}}table-row", f"{{{TABLE_NS}}}table-cell"
_SKIP = {
    f"{{{TEXT_NS}}}{n}"
    for n in (
        "tracked-changes",
        "note-citation",
        "sequence-decls",
        "variable-decls",
        "user-field-decls",
        "bookmark-ref",
    )
} | {f"{{{OFFICE_NS}}}annotation", f"{{{OFFICE_NS}}}annotation-end", f"{{{TABLE_NS}}}covered-table-cell"}
XML_ERR_NO_MEMORY = 2  # libxml2's code when an allocation fails (lxml reports it as a syntax error)
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True, load_dtd=False
)


def odt_text(content: bytes, limits: ParseLimits) -> str:
    """Plain text of an ODT package; Unreadable says why when it cannot be read."""
    package = open_zip(content, "ODT", limits)
    with package:
        names = set(package.namelist())
        if "META-INF/manifest.xml" in names and b"encryption-data" in read_member(
            package, "META-INF/manifest.xml", "ODT"
        ):
            raise Unreadable("document is password-protected; upload an unlocked copy")
        body = _parse(read_member(package, "content.xml", "ODT"), "content.xml")
        styles = _parse(read_member(package, "styles.xml", "ODT"), "styles.xml") if "styles.xml" in names else None
    budget = TextBudget(limits)
    header = footer = ""
    if styles is not None:
        header = "".join(t for el in styles.iter(f"{{{STYLE_NS}}}header") for t in _walk(el))
        footer = "".join(t for el in styles.iter(f"{{{STYLE_NS}}}footer") for t in _walk(el))
    for part in (header, "".join(_walk(_office_text(body))), footer):
        if part.strip():
            budget.add(part + "\n")
    return budget.text()


def _parse(xml: bytes, name: str) -> etree._Element:
    try:
        return etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        if exc.code == XML_ERR_NO_MEMORY:
            raise MemoryError(f"{name} needs more memory than the parser may use") from None
        raise Unreadable(f"corrupt or unreadable ODT: {name} is not well-formed XML ({exc})") from None


def _office_text(root: etree._Element) -> etree._Element:
    found = root.find(f"{{{OFFICE_NS}}}body/{{{OFFICE_NS}}}text")
    if found is None:
        raise Unreadable("not a text document (an OpenDocument spreadsheet or presentation?)")
    return found


def _walk(node: etree._Element) -> Iterator[str]:
    if node.text:
        yield node.text
    for child in node:
        tag = child.tag
        if isinstance(tag, str) and tag not in _SKIP:
            if tag == _S:
                yield " " * _count(child.get(f"{{{TEXT_NS}}}c"))
            elif tag == _TAB:
                yield "\t"
            elif tag == _BREAK:
                yield "\n"
            elif tag in (_P, _H):
                yield from _walk(child)
                yield "\n"
            elif tag == _ROW:
                yield from _row(child)
            else:
                yield from _walk(child)
        if child.tail:
            yield child.tail


def _row(row: etree._Element) -> Iterator[str]:
    cells = [
        "\n".join(line.strip() for line in "".join(_walk(c)).strip().splitlines() if line.strip())
        for c in row
        if c.tag == _CELL
    ]
    cells = [c for c in cells if c]
    if cells:
        # As for DOCX: short cells on one line, a layout table's multi-line cells as blocks.
        yield (" | ".join(cells) if all("\n" not in c for c in cells) else "\n".join(cells)) + "\n"


def _count(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 100))
    except ValueError:
        return 1
