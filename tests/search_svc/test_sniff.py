"""The media type comes from the bytes: magic numbers, a zip's members, OLE2, RTF and HTML markup; never the name."""

from __future__ import annotations

import io
import zipfile

import pytest

from search_svc import ingest
from search_svc.formats import sniff
from tests.search_svc.format_files import (
    REAL_DOC,
    REAL_DOCX,
    RESUME,
    html_bytes,
    jpeg_bytes,
    odt_bytes,
    png_bytes,
    rtf_bytes,
    text_pdf,
)
from tests.search_svc.resumes import RESUME_LINES, docx_bytes


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("content", "media"),
    [
        (text_pdf(["Ada"]), sniff.PDF),
        (b"\n\n  garbage before the header %PDF-1.4\n", sniff.PDF),  # the spec allows 1024 bytes before it
        (docx_bytes(RESUME_LINES), sniff.DOCX),
        (REAL_DOCX.read_bytes(), sniff.DOCX),
        (odt_bytes(RESUME), sniff.ODT),
        (REAL_DOC.read_bytes(), sniff.DOC),
        (rtf_bytes(RESUME), sniff.RTF),
        (b"\xef\xbb\xbf  {\\rtf1 hi}", sniff.RTF),
        (html_bytes(RESUME), sniff.HTML),
        (b"<!-- saved from Word -->\n<HTML xmlns:o='urn:schemas-microsoft-com:office:office'><body>x", sniff.HTML),
        (b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>x</body></html>', sniff.HTML),
        ("<html><body>Zoë</body></html>".encode("utf-16"), sniff.HTML),
        (png_bytes(["x"]), sniff.PNG),
        (jpeg_bytes(["x"]), sniff.JPEG),
        (_zip({"xl/workbook.xml": b"<x/>", "[Content_Types].xml": b"<x/>"}), sniff.XLSX),
        (
            _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}),
            "application/vnd.oasis.opendocument.spreadsheet",
        ),
        (_zip({"notes.txt": b"hello"}), sniff.ZIP),
        (b"GIF89a....", "image/gif"),
        (b"Plain text resume\nwith <b>one tag</b> in it", None),
        (b"", None),
    ],
)
def test_content_decides(content: bytes, media: str | None) -> None:
    assert sniff.sniff(content) == media


def test_a_damaged_zip_is_judged_by_its_first_entry() -> None:
    odt = odt_bytes(RESUME)
    assert sniff.sniff(odt[: len(odt) // 2]) == sniff.ODT  # central directory cut off
    docx = docx_bytes(RESUME_LINES)
    assert sniff.sniff(docx[: len(docx) // 2]) == sniff.DOCX


@pytest.mark.parametrize(
    ("content", "name", "declared", "media"),
    [
        (docx_bytes(RESUME_LINES), "cv.pdf", "application/pdf", ingest.DOCX),  # renamed: content wins
        (text_pdf(["Ada"]), "cv.txt", "text/plain", ingest.PDF),
        (b"Ada Lovelace\nEngineer", "cv.pdf", "application/pdf", ingest.TEXT),
        (b"# Ada\n\n* Python", "cv.md", "", ingest.MARKDOWN),
        (b"<p>Ada <b>Lovelace</b></p>", "cv.html", "", ingest.HTML),  # a fragment, named HTML, with markup
        (b"Ada Lovelace, no markup", "cv.html", "text/html", ingest.TEXT),
        (b"<p>Ada</p>", "cv.txt", "text/plain", ingest.TEXT),  # markup in a text file stays text
    ],
)
def test_names_and_declared_types_only_label_text(content: bytes, name: str, declared: str, media: str) -> None:
    assert ingest.sniff(content, name, declared) == media
