"""Each format's parser on real and real-writer files, and every limit on a real bomb (in this process)."""

from __future__ import annotations

import dataclasses
import difflib
import io
import re
import time

import docx
import pytest
from PIL import Image

from hiremesh.errors import InvalidArgument
from search_svc import ingest
from search_svc.formats.html import html_text
from search_svc.formats.limits import ParseLimits, Unreadable
from search_svc.formats.ocr import lines_from
from search_svc.formats.rtf import rtf_text
from search_svc.formats.word import doc_text
from tests.search_svc.format_files import (
    REAL_DOC,
    REAL_DOCX,
    RESUME,
    docx_bomb,
    html_bytes,
    jpeg_bytes,
    odt_bytes,
    pdf_flate_bomb,
    png_bytes,
    rtf_bytes,
    scanned_pdf_bytes,
    text_pdf,
)

LIMITS = ParseLimits()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


# --- legacy Word -------------------------------------------------------------------------------------------


def test_a_real_doc_reads_like_its_docx_twin() -> None:
    doc = ingest.extract(REAL_DOC.read_bytes(), "", REAL_DOC.name)
    twin = ingest.extract(REAL_DOCX.read_bytes(), "", REAL_DOCX.name)
    assert doc.media_type == ingest.DOC and twin.media_type == ingest.DOCX
    assert doc.text.splitlines()[0] == "Maryala Vinay Reddy"
    assert similarity(doc.text, twin.text) > 0.98
    assert "HYPERLINK" not in doc.text and "\x07" not in doc.text and "\x13" not in doc.text


def _fib_flag(content: bytes, bit: int) -> bytes:
    at = content.index(b"\xec\xa5\xc1\x00")  # wIdent + nFib of Word 97 at the start of the WordDocument stream
    data = bytearray(content)
    data[at + 0x0B] |= bit >> 8
    return bytes(data)


def test_an_encrypted_doc_says_so() -> None:
    with pytest.raises(Unreadable, match="password-protected"):
        doc_text(_fib_flag(REAL_DOC.read_bytes(), 0x0100), LIMITS)


@pytest.mark.parametrize("cut", [600, 5000, 20000])
def test_a_truncated_doc_is_unreadable_not_a_crash(cut: int) -> None:
    with pytest.raises(Unreadable, match="Word document"):
        doc_text(REAL_DOC.read_bytes()[:cut], LIMITS)


# --- DOCX ----------------------------------------------------------------------------------------------


def test_docx_reads_headers_tables_in_place_and_text_boxes_once() -> None:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Ada Lovelace | ada@example.org"
    document.add_paragraph("Summary: data engineer")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Python"
    table.rows[0].cells[1].text = "8 years"
    document.add_paragraph("Experience after the table")
    # A text box the way Word writes it: DrawingML choice plus a VML fallback holding the same text.
    box = (
        '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><mc:Choice Requires="wps">'
        "<w:drawing><w:txbxContent><w:p><w:r><w:t>Side column: Kubernetes</w:t></w:r></w:p></w:txbxContent>"
        "</w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Side column: Kubernetes"
        "</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent>"
    )
    from docx.oxml import parse_xml

    run = document.add_paragraph().add_run()
    run._r.append(parse_xml(box))
    buf = io.BytesIO()
    document.save(buf)
    lines = ingest.extract(buf.getvalue()).text.splitlines()
    assert lines[0] == "Ada Lovelace | ada@example.org"
    assert lines.index("Python | 8 years") < lines.index("Experience after the table")
    assert sum("Side column: Kubernetes" in line for line in lines) == 1


# --- ODT, RTF, HTML ------------------------------------------------------------------------------------


def test_odt_paragraphs_headings_tables_and_page_header() -> None:
    out = ingest.extract(odt_bytes(RESUME, header="Maria Gonzalez"), "", "cv.odt")
    assert out.media_type == ingest.ODT
    lines = out.text.splitlines()
    assert lines[0] == "Maria Gonzalez" and RESUME[0] in lines and "Skill | Years" in lines


def test_rtf_code_pages_unicode_fields_and_pictures() -> None:
    rtf = (
        rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fnil\fcharset0 Calibri;}{\f1\fcharset204 Arial;}}"
        rb"{\*\generator Riched20}{\info{\author Someone Else}}\uc1\pard\f0 Jos\'e9 Garc\'eda\par "
        rb"{\f1 \'cf\'f0\'e8\'e2\'e5\'f2}\par \u8364? per hour\tab Python\par "
        rb"{\field{\*\fldinst{HYPERLINK \"https://example.org\"}}{\fldrslt{my site}}}\par "
        rb"{\pict\pngblip 89504e470d0a1a0a}{\*\shppict{\pict\bin4 \x00\x01{}}}Skills\cell Go\cell\row}"
    )
    assert rtf_text(rtf, LIMITS).splitlines() == [
        "José García",
        "Привет",
        "€ per hour\tPython",
        "my site",
        "Skills | Go | ",
    ]
    assert ingest.extract(rtf_bytes(["Zoë Müller — café"]), "", "cv.rtf").text == "Zoë Müller — café"


def test_rtf_reading_grows_linearly() -> None:
    # striprtf's hyperlink regex took 97 s on 84 KB of this; here 10x the input must cost about 10x the time.
    def seconds(n: int) -> float:
        body = b'{\\field{\\*\\fldinst{ HYPERLINK "x' + b" a" * 5
        data = b"{\\rtf1\\ansi {\\fonttbl" + b"\\f1 abc" * n + b"}" + body * n + b"}"
        began = time.perf_counter()
        rtf_text(data, LIMITS)
        return time.perf_counter() - began

    small = min(seconds(2000) for _ in range(3))
    large = min(seconds(20000) for _ in range(3))
    assert large / small < 30, (small, large)


def test_html_drops_scripts_styles_and_head() -> None:
    out = ingest.extract(html_bytes(RESUME, title="Page title"), "", "cv.html")
    assert out.media_type == ingest.HTML
    assert out.text.splitlines() == RESUME
    page = (
        "<html><head><meta charset='windows-1252'></head><body><h1>Jos\xe9</h1><table><tr><td>Skills</td>"
        "<td>Go &amp; SQL</td></tr></table><ul><li>one</li><li>two</li></ul>tail</body></html>"
    ).encode("cp1252")
    assert html_text(page, LIMITS).splitlines() == ["José", "Skills | Go & SQL", "one", "two", "tail"]


# --- OCR -----------------------------------------------------------------------------------------------


def _found(text: str) -> float:
    expected = {w for line in RESUME for w in words(line)}
    return len(expected & set(words(text))) / len(expected)


def test_a_png_resume_is_read_by_ocr() -> None:
    out = ingest.extract(png_bytes(RESUME), "", "scan.png")
    assert out.media_type == ingest.PNG
    assert _found(out.text) > 0.8, out.text
    assert "Python" in out.text and "Tensorflow" in out.text


def test_a_photo_is_turned_upright_from_its_exif_orientation() -> None:
    out = ingest.extract(jpeg_bytes(RESUME, rotate_exif=True), "", "photo.jpg")
    assert out.media_type == ingest.JPEG and _found(out.text) > 0.8, out.text


def test_a_scanned_pdf_page_is_read_by_ocr() -> None:
    content = scanned_pdf_bytes(RESUME)
    without = dataclasses.replace(LIMITS, ocr=False)
    with pytest.raises(InvalidArgument, match="no text could be extracted"):
        ingest.extract(content, "", "scan.pdf", limits=without)
    out = ingest.extract(content, "", "scan.pdf")
    assert out.media_type == ingest.PDF and _found(out.text) > 0.8, out.text


def test_ocr_lines_are_rebuilt_top_to_bottom_left_to_right() -> None:
    def box(x: int, y: int, w: int = 100, h: int = 20) -> list[list[int]]:
        return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]

    result = [[box(300, 52), "Pune", 0.9], [box(10, 10), "Ada  Lovelace", 0.9], [box(10, 50), "Engineer", 0.9]]
    assert lines_from(result) == "Ada Lovelace\nEngineer  Pune"


# --- limits --------------------------------------------------------------------------------------------


def _refused(content: bytes, name: str, limits: ParseLimits = LIMITS) -> str:
    with pytest.raises(InvalidArgument) as err:
        ingest.extract(content, "", name, limits=limits)
    assert err.value.field == "resume.content" and repr(name) in err.value.message
    return err.value.message


def test_a_docx_zip_bomb_names_the_ratio_limit() -> None:
    message = _refused(docx_bomb(), "bomb.docx")
    assert "word/document.xml" in message and "compression ratio limit is 100x" in message
    roomy = dataclasses.replace(LIMITS, max_ratio=10_000, max_inflated_bytes=8 * 1024 * 1024)
    assert "decompressed size limit is 8 MB" in _refused(docx_bomb(), "bomb.docx", roomy)


def test_a_pdf_flate_bomb_names_the_limit() -> None:
    assert "compression ratio limit is 100x" in _refused(pdf_flate_bomb(30 * 1024 * 1024), "bomb.pdf")
    roomy = dataclasses.replace(LIMITS, max_ratio=1e6, max_inflated_bytes=20 * 1024 * 1024)
    assert "decompressed size limit of 20 MB" in _refused(pdf_flate_bomb(30 * 1024 * 1024), "bomb.pdf", roomy)


def test_too_many_pages_names_the_page_limit() -> None:
    assert "60 pages; the page limit is 50" in _refused(text_pdf(["Ada"], pages=60), "long.pdf")
    assert ingest.extract(text_pdf(["Ada Lovelace"], pages=50), "", "ok.pdf").text.count("Ada Lovelace") == 50


def test_too_much_text_names_the_text_limit() -> None:
    small = dataclasses.replace(LIMITS, max_chars=5000)
    message = _refused(("Python developer. " * 1000).encode(), "long.txt", small)
    assert "more than 5,000 characters of text (the text limit)" in message


def test_a_huge_image_names_the_pixel_limit() -> None:
    buf = io.BytesIO()
    Image.new("L", (9000, 6000), 255).save(buf, "PNG")  # 54 MP of white compresses to a few KB
    assert "9000x6000 pixels; the image size limit is 40 megapixels" in _refused(buf.getvalue(), "huge.png")


def test_too_many_scanned_pages_names_the_ocr_page_limit() -> None:
    one_page = dataclasses.replace(LIMITS, max_ocr_pages=0)
    assert "the OCR page limit is 0" in _refused(scanned_pdf_bytes(["Ada"]), "scan.pdf", one_page)
