"""OCR of page images and photos with RapidOCR (PP-OCRv4 detection + recognition on onnxruntime).

The models ship inside the `rapidocr-onnxruntime` wheel, so nothing is downloaded. Two measured adjustments:
- the 180-degree angle classifier is off: on upright resume text it flipped whole lines into garbage
  ("Technical Skills: ..." read as "S"); photos are turned upright from their EXIF orientation instead;
- the recogniser, trained mostly on Chinese, seldom emits the space character: its probability is scaled by
  SPACE_BIAS before CTC decoding. On rendered resumes word-level similarity went 0.59 -> 0.87 and character
  similarity 0.958 -> 0.981 (bias 1 vs 100; 80-320 all within 0.01), runs of spaces are collapsed after.
Lines are rebuilt by grouping detected boxes whose vertical extents overlap, then read left to right.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from search_svc.formats.limits import OverLimit, ParseLimits, Unreadable

SPACE_BIAS = 100.0
MIN_SIDE = 16  # images smaller than this on either side hold no readable text (logos, rules, bullets)
_SPACES = re.compile(r" {2,}")
_threads = -1  # onnxruntime's default: one per core


def configure(threads: int) -> None:
    """Threads per OCR call (a worker process sets this before the engine loads, so workers share the cores)."""
    global _threads
    _threads = threads if threads > 0 else -1
    _engine.cache_clear()


class _SpaceBiasedDecode:
    """RapidOCR's CTC decoder with the space class's probability scaled up (see the module docstring)."""

    def __init__(self, decode: Any) -> None:
        self._decode = decode
        self._space = len(decode.character) - 1  # rapidocr appends " " as the last class
        if decode.character[self._space] != " ":
            raise RuntimeError("rapidocr's character list no longer ends with the space class")

    def __call__(self, preds: Any, return_word_box: bool = False, **kwargs: Any) -> Any:
        biased = preds.copy()
        biased[:, :, self._space] *= SPACE_BIAS
        return self._decode(biased, return_word_box, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._decode, name)


@functools.cache
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except (ImportError, OSError) as exc:  # OpenCV needs libGL.so.1 / libglib (Debian: libgl1, libglib2.0-0)
        raise Unreadable(
            f"OCR is not available on this service ({str(exc)[:160]}); send a file with a text layer"
        ) from None
    engine = RapidOCR(print_verbose=False, intra_op_num_threads=_threads, inter_op_num_threads=1)
    engine.text_rec.postprocess_op = _SpaceBiasedDecode(engine.text_rec.postprocess_op)
    return engine


def warm_up() -> str | None:
    """Load the models now, so the first OCR'd file does not pay for it inside its time limit; the reason
    when OCR cannot run here (the service still reads every other file)."""
    try:
        _engine()
    except Unreadable as exc:
        _engine.cache_clear()
        return exc.reason
    return None


def check_pixels(width: int, height: int, what: str, limits: ParseLimits) -> None:
    if width * height > limits.max_pixels:
        raise OverLimit(
            "max_pixels",
            f"{what} is {width}x{height} pixels; the image size limit is {limits.max_pixels / 1e6:g} megapixels",
        )


def image_text(image: Any) -> str:
    """Text of a PIL image ("" when it holds none)."""
    import numpy as np

    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if min(image.size) < MIN_SIDE:
        return ""
    engine = _engine()
    try:
        result, _ = engine(np.asarray(image), use_cls=False)
    except MemoryError:
        raise
    except Exception as exc:  # onnxruntime / OpenCV errors on odd image shapes
        raise Unreadable(f"OCR could not read an image: {str(exc)[:200]}") from None
    return lines_from(result or [])


def lines_from(result: list[Any]) -> str:
    """Lines of text from RapidOCR's [box, text, score] entries, top to bottom, boxes on a line left to right."""
    items = []
    for entry in result:
        box, text = entry[0], _SPACES.sub(" ", str(entry[1])).strip()
        if not text:
            continue
        ys = [p[1] for p in box]
        items.append((min(ys), max(ys), min(p[0] for p in box), text))
    items.sort(key=lambda it: (it[0], it[2]))
    lines: list[list[tuple[float, float, float, str]]] = []
    for item in items:
        top, bottom = item[0], item[1]
        if lines:
            last = lines[-1]
            l_top, l_bottom = min(i[0] for i in last), max(i[1] for i in last)
            overlap = min(bottom, l_bottom) - max(top, l_top)
            if overlap > 0.5 * min(bottom - top, l_bottom - l_top):
                last.append(item)
                continue
        lines.append([item])
    return "\n".join("  ".join(i[3] for i in sorted(line, key=lambda i: i[2])) for line in lines)
