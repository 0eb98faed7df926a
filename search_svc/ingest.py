"""Resume files (PDF, DOCX, plain text) to plain text, with errors a caller can act on.

Every failure is an `InvalidArgument` on the field that carried the bytes, saying why (corrupt,
password-protected, unsupported, too large, no text), so a bulk import can report it per file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from hiremesh.errors import InvalidArgument

MAX_RESUME_BYTES = 10 * 1024 * 1024

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
MARKDOWN = "text/markdown"

_BY_SUFFIX = {".pdf": PDF, ".docx": DOCX, ".txt": TEXT, ".text": TEXT, ".md": MARKDOWN}

# pypdf logs every recoverable oddity of a damaged file as a warning; the caller gets the reason instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)


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
    for suffix, media in _BY_SUFFIX.items():
        if lowered.endswith(suffix):
            return media
    return None


def sniff(content: bytes, file_name: str = "") -> str:
    """Media type from the bytes themselves (magic numbers), falling back to the file name, then text."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"PK\x03\x04"):
        return DOCX
    return media_type_for(file_name) or TEXT


def extract(content: bytes, media_type: str = "", file_name: str = "", field: str = "resume") -> ExtractedResume:
    """Plain text of a resume file; raises InvalidArgument(`field`...) with the reason when it cannot."""
    if len(content) > MAX_RESUME_BYTES:
        raise InvalidArgument(f"{field}.content", f"file is {len(content)} bytes; the limit is {MAX_RESUME_BYTES}")
    if not content:
        raise InvalidArgument(f"{field}.content", "file is empty")
    declared = (media_type or "").split(";")[0].strip().lower()
    # Magic numbers beat a declared type: a PDF sent as text/plain would otherwise be indexed as garbage.
    media = sniff(content, file_name) if (not declared or content.startswith((b"%PDF-", b"PK\x03\x04"))) \
        else declared
    if media == "application/msword":
        raise InvalidArgument(f"{field}.media_type", "legacy .doc files are not supported; save as DOCX or PDF")
    if media == PDF:
        text = _pdf_text(content, field)
    elif media == DOCX:
        text = _docx_text(content, field)
    elif media.startswith("text/") or media in {"application/json", "application/octet-stream"}:
        text = _plain_text(content, field)
    else:
        raise InvalidArgument(f"{field}.media_type", f"unsupported type {media!r}: send PDF, DOCX or plain text")
    text = _tidy(text)
    if not text:
        raise InvalidArgument(f"{field}.content", "no text could be extracted (a scanned image or an empty document?)")
    return ExtractedResume(text=text, media_type=media, sha256=hashlib.sha256(content).hexdigest())


def _pdf_text(content: bytes, field: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            # An owner-password-only PDF opens with the empty user password; anything else is locked.
            try:
                unlocked = bool(reader.decrypt(""))
            except Exception:  # pypdf raises several types for unsupported crypto
                unlocked = False
            if not unlocked:
                raise InvalidArgument(f"{field}.content", "PDF is password-protected; upload an unlocked copy")
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except InvalidArgument:
        raise
    except FileNotDecryptedError:
        raise InvalidArgument(f"{field}.content", "PDF is password-protected; upload an unlocked copy") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, ArithmeticError,
            RecursionError, AssertionError, NotImplementedError, struct.error, zlib.error) as exc:
        # Damaged files make pypdf fail in many ways (its own errors, loops, bad streams); all mean "corrupt".
        raise InvalidArgument(f"{field}.content", f"corrupt or unreadable PDF: {exc}") from None


def _docx_text(content: bytes, field: str) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(content))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        reason = "the file is not a DOCX package" if isinstance(exc, PackageNotFoundError) else str(exc)
        if _is_encrypted_office(content):
            reason = "document is password-protected; upload an unlocked copy"
            raise InvalidArgument(f"{field}.content", reason) from None
        raise InvalidArgument(f"{field}.content", f"corrupt or unreadable DOCX: {reason}") from None
    except Exception as exc:  # lxml raises its own syntax errors for a broken document.xml
        raise InvalidArgument(f"{field}.content", f"corrupt or unreadable DOCX: {exc}") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _is_encrypted_office(content: bytes) -> bool:
    # Password-protected Office files are OLE compound documents, not zip packages.
    return content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _plain_text(content: bytes, field: str) -> str:
    if _is_encrypted_office(content):
        raise InvalidArgument(f"{field}.content", "an encrypted or legacy Office file, not plain text")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidArgument(f"{field}.content", "text claims UTF-16 but does not decode") from None
    if b"\x00" in content[:4096]:
        raise InvalidArgument(f"{field}.content", "binary data, not text: send PDF, DOCX or plain text")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")  # old Windows exports; never fails


def _tidy(text: str) -> str:
    # PostgreSQL text cannot hold NUL; collapse runs of blank lines PDFs tend to produce.
    lines = [line.rstrip() for line in text.replace("\x00", "").replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
