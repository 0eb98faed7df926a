"""Resume files to plain text: the format is sniffed from the content, then its parser runs under ParseLimits.

Formats: PDF (with OCR for pages that have no text layer), DOCX, legacy Word .doc, ODT, RTF, HTML, plain text
and Markdown, PNG and JPEG (OCR). Every failure is an `InvalidArgument` on the field that carried the bytes,
naming the file and the reason (corrupt, password-protected, unsupported, over which limit, no text), so a bulk
import can report it per file. Time and memory limits need a separate process: search_svc.parse_pool runs this
module's `extract` in worker processes; called directly it enforces every other limit.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from hiremesh.errors import InvalidArgument
from search_svc.formats import sniff as sniffing
from search_svc.formats.limits import OverLimit, ParseLimits, Unreadable

DEFAULT_LIMITS = ParseLimits()
MAX_RESUME_BYTES = DEFAULT_LIMITS.max_file_bytes

PDF = sniffing.PDF
DOCX = sniffing.DOCX
DOC = sniffing.DOC
ODT = sniffing.ODT
RTF = sniffing.RTF
HTML = sniffing.HTML
PNG = sniffing.PNG
JPEG = sniffing.JPEG
TEXT = sniffing.TEXT
MARKDOWN = sniffing.MARKDOWN

# File suffixes of the formats above: what a folder import picks up, and labels for text-like content.
SUFFIXES = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".doc": DOC,
    ".odt": ODT,
    ".rtf": RTF,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".txt": TEXT,
    ".text": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
}
SUPPORTED = "PDF, DOCX, DOC, ODT, RTF, HTML, text, PNG or JPEG"
_MARKUP = re.compile(rb"<(?:[a-zA-Z][a-zA-Z0-9]{0,15})(?:\s[^<>]{0,500})?/?>")


@dataclass(frozen=True)
class ExtractedResume:
    text: str
    media_type: str
    sha256: str


def safe_file_name(name: str) -> str:
    """The last component of a client-supplied file name: a label to show, never a path."""
    base = re.split(r"[\\/]", name.replace("\x00", ""))[-1]
    # Runs of dots and leading dots carry no meaning in a label but look like traversal to every reader.
    return re.sub(r"\.{2,}", ".", base).strip().lstrip(".").strip()[:255]


def media_type_for(file_name: str) -> str | None:
    """The media type a file name implies, or None when its suffix is not a resume format."""
    lowered = file_name.lower()
    for suffix, media in SUFFIXES.items():
        if lowered.endswith(suffix):
            return media
    return None


def sniff(content: bytes, file_name: str = "", declared: str = "") -> str:
    """The media type to parse `content` as. A signature in the bytes always decides; content without one is
    text, read as HTML when the name or declared type says HTML and it holds markup, else text or Markdown."""
    found = sniffing.sniff(content)
    if found is not None:
        return found
    hint = (declared or "").split(";")[0].strip().lower() or media_type_for(file_name) or ""
    if media_type_for(file_name) == HTML:
        hint = HTML
    if hint in (HTML, "application/xhtml+xml") and _MARKUP.search(content[:8192]):
        return HTML
    if hint == MARKDOWN or media_type_for(file_name) == MARKDOWN:
        return MARKDOWN
    return TEXT


@functools.cache
def _parsers() -> dict[str, Callable[[bytes, ParseLimits], str]]:
    # Imported on first use: a worker pays for pypdf, lxml and the OCR stack once, callers of safe_file_name never.
    from search_svc.formats import html, images, odt, ooxml, pdf, rtf, text, word

    return {
        PDF: pdf.pdf_text,
        DOCX: ooxml.docx_text,
        DOC: word.doc_text,
        ODT: odt.odt_text,
        RTF: rtf.rtf_text,
        HTML: html.html_text,
        TEXT: text.plain_text,
        MARKDOWN: text.plain_text,
        PNG: lambda c, lim: images.image_text(c, lim, "PNG"),
        JPEG: lambda c, lim: images.image_text(c, lim, "JPEG"),
    }


def label(file_name: str) -> str:
    """How a file is named in error messages."""
    name = safe_file_name(file_name)
    return repr(name) if name else "the file"


def extract(
    content: bytes,
    media_type: str = "",
    file_name: str = "",
    field: str = "resume",
    limits: ParseLimits = DEFAULT_LIMITS,
) -> ExtractedResume:
    """Plain text of a resume file; raises InvalidArgument(`field`.content, "<file>: <reason>") when it cannot."""
    where = f"{field}.content"
    name = label(file_name)
    if len(content) > limits.max_file_bytes:
        raise InvalidArgument(
            where, f"{name} is {len(content)} bytes; the file size limit is {limits.max_file_bytes} bytes"
        )
    if not content:
        raise InvalidArgument(where, f"{name} is empty")
    media = sniff(content, file_name, media_type)
    parser = _parsers().get(media)
    if parser is None:
        raise InvalidArgument(
            where, f"{name}: unsupported file type: the content is {sniffing.describe(media)}; send {SUPPORTED}"
        )
    try:
        text = tidy(parser(content, limits))
    except OverLimit as exc:
        raise InvalidArgument(where, f"{name} is over a limit: {exc.reason}") from None
    except Unreadable as exc:
        raise InvalidArgument(where, f"{name}: {exc.reason}") from None
    except RecursionError:
        raise InvalidArgument(
            where, f"{name}: corrupt or unreadable {sniffing.describe(media)}: nested too deeply"
        ) from None
    if len(text) > limits.max_chars:
        raise InvalidArgument(
            where, f"{name} is over a limit: more than {limits.max_chars:,} characters of text (the text limit)"
        )
    if not text:
        raise InvalidArgument(
            where, f"{name}: no text could be extracted (an empty document, or an image with no readable text?)"
        )
    return ExtractedResume(text=text, media_type=media, sha256=hashlib.sha256(content).hexdigest())


def tidy(text: str) -> str:
    """NULs dropped (PostgreSQL text cannot hold them), line ends normalised, runs of blank lines collapsed."""
    lines = [line.rstrip() for line in text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
