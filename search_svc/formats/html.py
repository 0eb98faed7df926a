"""HTML (a web page, or Word's "Save as Web Page") to text, parsed by libxml2's HTML parser through lxml.

lxml rather than the standard library's html.parser: it is C and linear, while CPython 3.11.7's parser still
has the quadratic handling of malformed markup fixed in 3.11.13. Scripts, styles, the head and other
non-content elements are dropped (their tails kept); block elements end a line, table cells are joined with
" | ", whitespace collapses as a browser would except inside <pre>. The encoding comes from a BOM, then a
<meta charset>, then UTF-8 with a cp1252 fallback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from search_svc.formats.limits import ParseLimits, TextBudget, Unreadable

_DROP = frozenset(
    {
        "script",
        "style",
        "head",
        "title",
        "template",
        "noscript",
        "svg",
        "math",
        "object",
        "iframe",
        "select",
        "button",
        "canvas",
        "xml",
        "meta",
        "link",
    }
)
_BLOCK = frozenset(
    {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "hr",
        "address",
        "form",
        "fieldset",
        "figure",
        "figcaption",
        "caption",
        "body",
        "html",
        "tbody",
        "thead",
        "tfoot",
        "summary",
        "details",
    }
)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_BREAK = "\x00"  # marks a line end while pieces are joined; NUL never survives decoding below


def html_text(content: bytes, limits: ParseLimits) -> str:
    """Plain text of an HTML document; Unreadable only when libxml2 finds no document at all."""
    text = decode_html(content).replace("\x00", "")
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(text, parser) if text.strip() else None
    except etree.XMLSyntaxError as exc:
        if exc.code == 2:  # libxml2's XML_ERR_NO_MEMORY, reported by lxml as a syntax error
            raise MemoryError("the HTML needs more memory than the parser may use") from None
        raise Unreadable(f"corrupt or unreadable HTML: {exc}") from None
    except (etree.ParserError, ValueError) as exc:
        raise Unreadable(f"corrupt or unreadable HTML: {exc}") from None
    if root is None:
        raise Unreadable("an empty HTML document")
    budget = TextBudget(limits)
    for line in "".join(_walk(root, pre=False)).split(_BREAK):
        line = line if "\n" in line else _SPACES.sub(" ", line).strip().strip("|").strip()
        if line.strip():
            budget.add(line.rstrip() + "\n")
    return budget.text()


def decode_html(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16", errors="replace")
    declared = _META_CHARSET.search(content[:4096])
    if declared:
        try:
            return content.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _walk(node: etree._Element, pre: bool) -> Iterator[str]:
    tag = node.tag.lower() if isinstance(node.tag, str) else ""
    if tag in _DROP:
        return
    pre = pre or tag == "pre"
    block = tag in _BLOCK
    if block:
        yield _BREAK
    elif tag in ("td", "th"):
        yield " | "
    elif tag == "br":
        yield "\n" if pre else _BREAK
    elif tag == "img" and (node.get("alt") or "").strip():
        yield f" {node.get('alt')} "
    if node.text and tag:
        yield from _lines(node.text, pre)
    for child in node:
        yield from _walk(child, pre)
        if child.tail:
            yield from _lines(child.tail, pre)
    if block:
        yield _BREAK


def _lines(text: str, pre: bool) -> Iterator[str]:
    if not pre:
        yield text
        return
    # Inside <pre> every line break is a line of its own.
    yield text.replace("\n", _BREAK)
