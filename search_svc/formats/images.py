"""PNG and JPEG resumes (scans, phone photos) to text through OCR.

The image's size is read from its header and checked against the pixel limit before anything is decoded;
a phone photo's EXIF orientation is applied so the text is upright; very large photos are decoded at a
reduced scale (JPEG draft mode), since the OCR works at up to 2000 pixels a side anyway.
"""

from __future__ import annotations

import io
import warnings

from search_svc.formats import ocr
from search_svc.formats.limits import ParseLimits, Unreadable

_OCR_SIDE = 2000


def image_text(content: bytes, limits: ParseLimits, kind: str) -> str:
    """OCR text of a PNG or JPEG image; Unreadable when it is damaged or OCR is switched off."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not limits.ocr:
        raise Unreadable(f"{kind} images need OCR, which is switched off on this service")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(content))
            ocr.check_pixels(opened.width, opened.height, f"the {kind} image", limits)
            if opened.format == "JPEG":
                opened.draft("RGB", (_OCR_SIDE, _OCR_SIDE))
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise Unreadable(f"corrupt or unreadable {kind} image: {str(exc)[:200]}") from None
    if image.width > _OCR_SIDE or image.height > _OCR_SIDE:
        image.thumbnail((_OCR_SIDE, _OCR_SIDE))
    return ocr.image_text(image)
