"""Resume parsing never fails with anything but InvalidArgument, whatever bytes arrive.

search_svc.ingest.extract and the JSONL record reader get random bytes, truncated and bit-flipped files of every
format (PDF, DOCX, a real legacy Word .doc, ODT, RTF, HTML, PNG, JPEG), huge and unicode-heavy text; each input
ends as a result or an InvalidArgument naming the field that carried it.
"""

from __future__ import annotations

import io
import json

import docx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from hiremesh.errors import InvalidArgument
from search_svc import ingest
from search_svc.candidates import ResumeUpload, prepare
from search_svc.importer import record_candidate
from search_svc.records import Candidate
from tests.search_svc.format_files import REAL_DOC, html_bytes, jpeg_bytes, odt_bytes, png_bytes, rtf_bytes

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
MEDIA = st.sampled_from(
    [
        "",
        ingest.PDF,
        ingest.DOCX,
        ingest.TEXT,
        ingest.MARKDOWN,
        "application/msword",
        "image/png",
        "text/html; charset=utf-8",
        "application/octet-stream",
        "garbage/\x00",
        ingest.ODT,
        ingest.RTF,
        "image/jpeg",
    ]
)
# Formats whose parsers are pure Python/C and quick: fuzzed hard. Images go through OCR: fuzzed less.
SMALL_LINES = ["Ada Lovelace", "Python, SQL; 8 years", "Zoë Müller — café"]


def _pdf() -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    for i, line in enumerate(
        ["Grace Hopper", "grace@example.org", "Senior engineer: COBOL, Python, SQL", "Experience: 12 years"]
    ):
        page.drawString(72, 750 - 18 * i, line)
    page.showPage()
    page.save()
    return buf.getvalue()


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Alan Turing")
    document.add_paragraph("Python, Go and Kubernetes; 9 years of experience.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Skills"
    table.rows[0].cells[1].text = "Rust"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


PDF_BYTES = _pdf()
DOCX_BYTES = _docx()
DOCUMENTS = {
    "pdf": PDF_BYTES,
    "docx": DOCX_BYTES,
    "doc": REAL_DOC.read_bytes(),
    "odt": odt_bytes(SMALL_LINES),
    "rtf": rtf_bytes(SMALL_LINES),
    "html": html_bytes(SMALL_LINES),
}
IMAGES = {"png": png_bytes(SMALL_LINES[:1], size=20, width=300), "jpg": jpeg_bytes(SMALL_LINES[:1])}
OCR_FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _extract_or_invalid(content: bytes, media_type: str = "", file_name: str = "") -> None:
    try:
        result = ingest.extract(content, media_type, file_name, field="resume")
    except InvalidArgument as exc:
        assert exc.field.startswith("resume"), exc.field
        assert exc.message
        return
    assert result.text and "\x00" not in result.text
    assert len(result.sha256) == 64


def test_the_real_files_parse() -> None:
    assert "Grace Hopper" in ingest.extract(PDF_BYTES).text
    assert "Alan Turing" in ingest.extract(DOCX_BYTES).text
    for name, content in DOCUMENTS.items():
        assert ingest.extract(content, "", f"cv.{name}").text, name


@FUZZ
@given(content=st.binary(max_size=4096), media=MEDIA, name=st.sampled_from(["", "cv.pdf", "cv.docx", "cv.txt", "x"]))
def test_random_bytes(content: bytes, media: str, name: str) -> None:
    _extract_or_invalid(content, media, name)


@FUZZ
@given(cut=st.integers(min_value=0, max_value=len(PDF_BYTES)), media=st.sampled_from(["", ingest.PDF, ingest.TEXT]))
def test_truncated_pdf(cut: int, media: str) -> None:
    _extract_or_invalid(PDF_BYTES[:cut], media, "cv.pdf")


@FUZZ
@given(cut=st.integers(min_value=0, max_value=len(DOCX_BYTES)), media=st.sampled_from(["", ingest.DOCX]))
def test_truncated_docx(cut: int, media: str) -> None:
    _extract_or_invalid(DOCX_BYTES[:cut], media, "cv.docx")


def _flipped(original: bytes, data: st.DataObject) -> bytes:
    out = bytearray(original)
    for _ in range(data.draw(st.integers(min_value=1, max_value=20), label="flips")):
        at = data.draw(st.integers(min_value=0, max_value=len(out) - 1), label="at")
        out[at] = data.draw(st.integers(min_value=0, max_value=255), label="byte")
    return bytes(out)


@FUZZ
@given(which=st.sampled_from(sorted(DOCUMENTS)), data=st.data())
def test_bit_flipped_documents(which: str, data: st.DataObject) -> None:
    _extract_or_invalid(_flipped(DOCUMENTS[which], data), "", f"cv.{which}")


@FUZZ
@given(which=st.sampled_from(sorted(DOCUMENTS)), data=st.data(), media=MEDIA)
def test_truncated_documents_of_every_format(which: str, data: st.DataObject, media: str) -> None:
    original = DOCUMENTS[which]
    cut = data.draw(st.integers(min_value=0, max_value=len(original)), label="cut")
    _extract_or_invalid(original[:cut], media, f"cv.{which}")


@FUZZ
@given(which=st.sampled_from(sorted(DOCUMENTS)), tail=st.binary(min_size=1, max_size=512))
def test_documents_with_garbage_spliced_in(which: str, tail: bytes) -> None:
    original = DOCUMENTS[which]
    _extract_or_invalid(original[: len(original) // 2] + tail + original[len(original) // 2 :], "", f"cv.{which}")


@OCR_FUZZ
@given(which=st.sampled_from(sorted(IMAGES)), data=st.data())
def test_truncated_and_bit_flipped_images(which: str, data: st.DataObject) -> None:
    original = IMAGES[which]
    if data.draw(st.booleans(), label="truncate"):
        content = original[: data.draw(st.integers(min_value=0, max_value=len(original)), label="cut")]
    else:
        content = _flipped(original, data)
    _extract_or_invalid(content, "", f"scan.{which}")


@FUZZ
@given(
    markup=st.text(alphabet=st.sampled_from(list("<>/!-=\"' abcdhtmlpbrscriptstyle{}\\rtf\n")), max_size=600),
    prefix=st.sampled_from(["<!DOCTYPE html><html>", "<html><body>", "{\\rtf1 ", "<?xml version='1.0'?><html>"]),
)
def test_markup_soup(markup: str, prefix: str) -> None:
    _extract_or_invalid((prefix + markup).encode(), "", "cv.html")


@FUZZ
@given(
    text=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=3000),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"]),
)
def test_unicode_heavy_text(text: str, encoding: str) -> None:
    try:
        content = text.encode(encoding)
    except UnicodeEncodeError:
        content = text.encode("utf-8")
    _extract_or_invalid(content, ingest.TEXT, "cv.txt")


@pytest.mark.parametrize("size", [ingest.MAX_RESUME_BYTES, ingest.MAX_RESUME_BYTES + 1])
def test_huge_text_at_the_limit(size: int) -> None:
    unit = "Ünïcødé résumé — Python, Go, 数据工程师, 🚀 Kubernetes. "
    raw = (unit * (size // len(unit.encode()) + 1)).encode()[:size]
    raw = raw.decode("utf-8", errors="ignore").encode()  # a cut multi-byte character would not be text
    raw += b"x" * (size - len(raw))
    with pytest.raises(InvalidArgument) as refused:
        ingest.extract(raw, ingest.TEXT, "huge.txt")
    assert refused.value.field == "resume.content"
    # 10 MB of text is far more than a resume: at the size limit it is the text limit that refuses it.
    expected = "file size limit" if size > ingest.MAX_RESUME_BYTES else "(the text limit)"
    assert expected in refused.value.message and "'huge.txt'" in refused.value.message


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
RECORD_KEYS = st.sampled_from(
    [
        "name",
        "email",
        "phone",
        "location",
        "headline",
        "resume_text",
        "skills",
        "years_experience",
        "resume_file_name",
        "other",
    ]
)


@FUZZ
@given(record=st.dictionaries(RECORD_KEYS, JSON_VALUES, max_size=6) | JSON_VALUES)
@example(record={"resume_text": "x" * 10, "years_experience": float("nan")})
@example(record={"name": "A", "years_experience": 1e308, "skills": ["go"] * 600})
def test_jsonl_records(record: object) -> None:
    try:
        line = json.dumps(record, allow_nan=True)
    except (ValueError, TypeError):
        return
    try:
        c = record_candidate(line)
    except InvalidArgument as exc:
        assert exc.field.startswith(("record", "candidate")), exc.field
        return
    assert isinstance(c, Candidate) and c.resume_sha256


@FUZZ
@given(line=st.text(max_size=300))
def test_jsonl_lines_that_are_not_json(line: str) -> None:
    try:
        record_candidate(line)
    except InvalidArgument as exc:
        assert exc.field.startswith("record")


@FUZZ
@given(content=st.binary(max_size=2048), name=st.text(max_size=40), email=st.text(max_size=40))
def test_prepare_with_an_upload(content: bytes, name: str, email: str) -> None:
    try:
        prepare(Candidate(name=name, email=email), ResumeUpload("cv", "", content))
    except InvalidArgument as exc:
        assert exc.field.startswith(("resume", "candidate"))
