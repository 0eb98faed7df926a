"""Resume bytes -> text: every format succeeds; every broken input fails with a reason naming the file."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiremesh.errors import InvalidArgument
from search_svc import ingest
from tests.search_svc.resumes import RESUME_LINES, docx_bytes, encrypted_pdf_bytes, pdf_bytes


def test_pdf_text_is_extracted_and_hashed() -> None:
    content = pdf_bytes(RESUME_LINES)
    out = ingest.extract(content, "", "cv.pdf")
    assert out.media_type == ingest.PDF
    assert "Senior Platform Engineer" in out.text and "Terraform" in out.text
    assert out.sha256 == hashlib.sha256(content).hexdigest()


def test_docx_text_is_extracted_even_when_declared_as_text() -> None:
    out = ingest.extract(docx_bytes(RESUME_LINES), "text/plain", "cv.docx")
    assert out.media_type == ingest.DOCX
    assert out.text.splitlines()[0] == "Maria Gonzalez"


def test_plain_text_in_utf8_and_utf16() -> None:
    assert ingest.extract("Zoë Müller\nData engineer".encode(), "", "cv.txt").text == "Zoë Müller\nData engineer"
    assert ingest.extract("Zoë\nEngineer".encode("utf-16"), "text/plain").text == "Zoë\nEngineer"


@pytest.mark.parametrize(
    ("content", "media", "reason"),
    [
        (b"%PDF-1.7\n this is not really a pdf", "", "corrupt or unreadable PDF"),
        (b"PK\x03\x04 broken zip", "", "corrupt or unreadable DOCX"),
        (b"", "text/plain", "empty"),
        (b"\x00\x01\x02binary", "text/plain", "binary data"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif", "unsupported file type: the content is image/gif"),
        (b"PK\x05\x06" + b"\x00" * 18, "", "unsupported file type: the content is zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "", "corrupt or unreadable Word document"),
    ],
)
def test_broken_inputs_say_why(content: bytes, media: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        ingest.extract(content, media, "cv-x.bin")
    assert reason in err.value.message
    assert "'cv-x.bin'" in err.value.message  # the file is named, so a bulk upload says which one
    assert err.value.field == "resume.content"


def test_a_declared_type_never_overrides_the_content() -> None:
    # Declared as an image and named .png, the bytes are text: the content decides.
    out = ingest.extract(b"Zoe Miller\nData engineer", "image/png", "photo.png")
    assert out.media_type == ingest.TEXT and out.text.startswith("Zoe Miller")


def test_password_protected_pdf_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidArgument, match="password-protected"):
        ingest.extract(encrypted_pdf_bytes(RESUME_LINES), ingest.PDF, "locked.pdf")


def test_a_pdf_without_text_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="no text could be extracted"):
        ingest.extract(pdf_bytes([]), ingest.PDF, "blank.pdf")


def test_files_over_ten_megabytes_are_refused_before_parsing() -> None:
    with pytest.raises(InvalidArgument, match="file size limit is 10485760"):
        ingest.extract(b"a" * (ingest.MAX_RESUME_BYTES + 1), "text/plain")


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=2048),
    st.sampled_from(["", ingest.PDF, ingest.DOCX, "text/plain", ingest.DOC, ingest.RTF, ingest.HTML, ingest.ODT]),
)
def test_any_bytes_either_extract_or_fail_with_invalid_argument(content: bytes, media: str) -> None:
    try:
        out = ingest.extract(content, media, "f")
    except InvalidArgument as exc:
        assert exc.message
    else:
        assert out.text and "\x00" not in out.text


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=4096))
def test_mangled_pdfs_never_crash(tail: bytes) -> None:
    content = pdf_bytes(RESUME_LINES)
    cut = content[: len(content) // 2] + tail
    try:
        ingest.extract(cut, ingest.PDF)
    except InvalidArgument:
        pass
