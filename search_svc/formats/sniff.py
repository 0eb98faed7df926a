"""Media type from the bytes themselves: magic numbers, a zip's members, an OLE2 header, RTF and HTML markup.

The name and the declared type of an upload are never trusted: a DOCX renamed to .pdf, or a PDF sent as
text/plain, is read as what it is. `sniff` returns None for content with no signature (text, or unknown binary).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
DOC = "application/msword"
RTF = "application/rtf"
HTML = "text/html"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
MARKDOWN = "text/markdown"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ZIP = "application/zip"

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF_HEAD = 1024  # the PDF spec lets the header start anywhere in the first 1024 bytes

# Signatures of formats we recognise only to refuse them by name.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"\x7fELF", "application/x-executable"),
    (b"%!PS", "application/postscript"),
    (b"\x00\x00\x00\x0cjP  ", "image/jp2"),
)
_HTML_START = re.compile(
    rb"\s*(?:<\?xml[^>]{0,200}\?>\s*)?(?:<!--.{0,2000}?-->\s*)*"
    rb"<(?:!doctype\s+html|html|head|body|meta|title)\b",
    re.IGNORECASE | re.DOTALL,
)

NAMES = {
    PDF: "PDF",
    DOCX: "DOCX",
    ODT: "ODT",
    DOC: "Word (.doc)",
    RTF: "RTF",
    HTML: "HTML",
    PNG: "PNG image",
    JPEG: "JPEG image",
    TEXT: "text",
    MARKDOWN: "Markdown",
    XLSX: "Excel workbook",
    PPTX: "PowerPoint deck",
    ZIP: "zip archive",
}


def describe(media_type: str) -> str:
    """A short human name for a media type, for error messages."""
    return NAMES.get(media_type, media_type)


def sniff(content: bytes) -> str | None:
    """The media type the content's own signature says, or None when it has none (text or unknown binary)."""
    head = content[:_PDF_HEAD]
    if b"%PDF-" in head:
        return PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(content)
    if head.startswith(OLE2_MAGIC):
        return DOC  # legacy Word, or another OLE2 file the Word parser names when it opens it
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"{\\rtf"):
        return RTF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for magic, media in _OTHER_MAGIC:
        if head.startswith(magic):
            return media
    if _looks_like_html(head):
        return HTML
    return None


def _looks_like_html(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            head = head.decode("utf-16").encode("utf-8", errors="ignore")
        except UnicodeDecodeError:
            return False
    return _HTML_START.match(head.removeprefix(b"\xef\xbb\xbf")) is not None


def _zip_kind(content: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return _zip_kind_from_first_entry(content)
    if "word/document.xml" in names:
        return DOCX
    if "mimetype" in names or "content.xml" in names:
        return _odf_kind(content)
    if "xl/workbook.xml" in names:
        return XLSX
    if "ppt/presentation.xml" in names:
        return PPTX
    return ZIP


def _odf_kind(content: bytes) -> str:
    # ODF packages store an uncompressed `mimetype` member first, so its value sits right after the first header.
    first = _first_entry(content)
    if first is not None and first[0] == "mimetype":
        media = first[1].decode("ascii", errors="replace").strip()
        return media if media.startswith("application/vnd.oasis.opendocument") else ZIP
    return ODT  # a content.xml without the mimetype member: the ODT parser decides


def _zip_kind_from_first_entry(content: bytes) -> str:
    # A damaged central directory: judge by the first local header, so the right parser reports the damage.
    first = _first_entry(content)
    if first is None:
        return DOCX
    name, data = first
    if name == "mimetype":
        media = data.decode("ascii", errors="replace").strip()
        return media if media.startswith("application/vnd.oasis.opendocument") else ZIP
    if name.startswith(("xl/", "ppt/")):
        return XLSX if name.startswith("xl/") else PPTX
    return DOCX


def _first_entry(content: bytes) -> tuple[str, bytes] | None:
    if len(content) < 30 or not content.startswith(b"PK\x03\x04"):
        return None
    (method,) = struct.unpack_from("<H", content, 8)
    (size,) = struct.unpack_from("<I", content, 18)  # compressed size: for a stored member, its length
    name_len, extra_len = struct.unpack_from("<HH", content, 26)
    name = content[30 : 30 + name_len].decode("utf-8", errors="replace")
    start = 30 + name_len + extra_len
    data = content[start : start + min(size, 100)] if method == 0 else b""
    return name, data
