"""PDF to text with pypdf; a page without a text layer goes through OCR of the images on it.

Limits: the page count is checked before any page is read; every page's content streams are inflated under
pypdf's own per-stream cap (set to the decompressed size limit) and then held to the ratio limit and to a
running total for the whole file, so a Flate bomb stops with the limit's name instead of filling memory.
Images are checked against the pixel limit from their dictionaries before they are decoded for OCR.
"""

from __future__ import annotations

import io
import logging
import struct
import zlib
from typing import Any

from search_svc.formats import ocr
from search_svc.formats.limits import OverLimit, ParseLimits, TextBudget, Unreadable, check_inflation, megabytes

# pypdf logs every recoverable oddity of a damaged file as a warning; the caller gets the reason instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_MIN_TEXT = 16  # characters below which a page counts as having no text layer (a scanned page's stray marks)
_PARSE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    OSError,
    ArithmeticError,
    RecursionError,
    AssertionError,
    NotImplementedError,
    struct.error,
    zlib.error,
    UnicodeError,
    LookupError,
    EOFError,
)


def pdf_text(content: bytes, limits: ParseLimits) -> str:
    """Plain text of a PDF (OCR for pages without text); Unreadable says why when it cannot be read."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PyPdfError

    configured = _pypdf_limits(limits)  # outside the try: a pypdf without these settings is our bug, not the file's
    try:
        with configured:
            reader = PdfReader(io.BytesIO(content))
            _unlock(reader)
            try:
                pages = len(reader.pages)
            except LimitReachedError:
                raise OverLimit(
                    "max_pages",
                    f"its page tree holds more entries than the page limit of {limits.max_pages} pages allows",
                ) from None
            if pages > limits.max_pages:
                raise OverLimit("max_pages", f"{pages} pages; the page limit is {limits.max_pages}")
            return _pages_text(reader, limits)
    except Unreadable:
        raise
    except FileNotDecryptedError:
        raise Unreadable("PDF is password-protected; upload an unlocked copy") from None
    except LimitReachedError as exc:
        raise OverLimit(
            "max_inflated_bytes",
            f"a PDF stream inflates past the decompressed size limit of {megabytes(limits.max_inflated_bytes)} ({exc})",
        ) from None
    except MemoryError:
        raise
    except (PyPdfError, *_PARSE_ERRORS) as exc:  # type: ignore[misc]
        # Damaged files make pypdf fail in many ways (its own errors, loops, bad streams); all mean "corrupt".
        raise Unreadable(f"corrupt or unreadable PDF: {str(exc)[:200] or type(exc).__name__}") from None


def _pypdf_limits(limits: ParseLimits) -> Any:
    from pypdf import apply_configuration

    cap = limits.max_inflated_bytes
    return apply_configuration(
        zlib_maximum_output_length=cap,
        lzw_maximum_output_length=cap,
        run_length_maximum_output_length=cap,
        jbig2_maximum_output_length=cap,
        brotli_maximum_output_length=cap,
        array_based_stream_maximum_output_length=cap,
        maximum_declared_stream_length=cap,
        image_maximum_buffer_size=min(cap, 4 * limits.max_pixels),
        stream_decoding_work_maximum_length=cap * 2,
        page_tree_maximum_entries=max(1000, 4 * limits.max_pages),
        jbig2dec_binary=None,
    )


def _unlock(reader: Any) -> None:
    if not reader.is_encrypted:
        return
    # An owner-password-only PDF opens with the empty user password; anything else is locked.
    try:
        unlocked = bool(reader.decrypt(""))
    except Exception:  # pypdf raises several types for unsupported crypto
        unlocked = False
    if not unlocked:
        raise Unreadable("PDF is password-protected; upload an unlocked copy")


def _pages_text(reader: Any, limits: ParseLimits) -> str:
    budget = TextBudget(limits)
    inflated = 0
    ocr_pages = 0
    for number, page in enumerate(reader.pages, start=1):
        inflated += _check_contents(page, number, inflated, limits)
        text = page.extract_text() or ""
        if len(text.strip()) < _MIN_TEXT and limits.ocr:
            scanned = _page_images_text(page, number, limits, ocr_pages)
            if scanned is not None:
                ocr_pages += 1
                text = scanned if len(scanned.strip()) > len(text.strip()) else text
        budget.add(text + "\n")
    return budget.text()


def _check_contents(page: Any, number: int, before: int, limits: ParseLimits) -> int:
    """Inflated size of the page's content streams, refusing a bomb by ratio or by the file's running total."""
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = list(contents) if isinstance(contents, list) else [contents]
    compressed = size = 0
    for ref in streams:
        stream = ref.get_object()
        if not hasattr(stream, "get_data"):
            continue
        raw = getattr(stream, "_data", None)  # the encoded bytes as read from the file
        compressed += len(raw) if isinstance(raw, bytes | bytearray) else int(stream.get("/Length", 0) or 0)
        size += len(stream.get_data())
    check_inflation(f"page {number}'s content", compressed, size, limits)
    if before + size > limits.max_inflated_bytes:
        raise OverLimit(
            "max_inflated_bytes",
            f"its pages' content inflates past the decompressed size limit of {megabytes(limits.max_inflated_bytes)}",
        )
    return size


def _page_images_text(page: Any, number: int, limits: ParseLimits, ocr_pages: int) -> str | None:
    """OCR text of a page's images, or None when the page has no image to read."""
    declared = _declared_image_sizes(page)
    if not declared:
        return None
    if ocr_pages >= limits.max_ocr_pages:
        raise OverLimit(
            "max_ocr_pages",
            f"more than {limits.max_ocr_pages} scanned pages need OCR; the OCR page limit is {limits.max_ocr_pages}",
        )
    for width, height in declared:
        ocr.check_pixels(width, height, f"an image on page {number}", limits)
    texts = []
    for image in page.images:
        try:
            pil = image.image
        except MemoryError:
            raise
        except Exception as exc:  # pypdf cannot decode every filter (JBIG2 without jbig2dec, odd colour spaces)
            raise Unreadable(
                f"page {number} has no text layer and its image cannot be decoded "
                f"({str(exc)[:120] or type(exc).__name__})"
            ) from None
        if pil is None:
            continue
        ocr.check_pixels(pil.width, pil.height, f"an image on page {number}", limits)
        texts.append(ocr.image_text(pil))
    return "\n".join(t for t in texts if t.strip())


def _declared_image_sizes(holder: Any, depth: int = 0) -> list[tuple[int, int]]:
    """(width, height) of the images a page (or a form XObject on it) draws, from their dictionaries."""
    resources = holder.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    xobjects = resources.get("/XObject") if resources is not None else None
    if xobjects is None or depth > 4:
        return []
    out = []
    for ref in xobjects.get_object().values():
        obj = ref.get_object()
        if obj.get("/Subtype") == "/Image":
            out.append((int(obj.get("/Width", 0)), int(obj.get("/Height", 0))))
        elif obj.get("/Subtype") == "/Form":
            out += _declared_image_sizes(obj, depth + 1)
    return out
