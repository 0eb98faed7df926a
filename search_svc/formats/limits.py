"""The limits every parser runs under, the errors it raises, and the guards shared by several formats."""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class ParseLimits:
    """What one resume file may cost to read. Structural limits apply in any process; time and memory are
    enforced by the worker process that runs the parser (search_svc.parse_pool)."""

    max_file_bytes: int = 10 * MB
    max_pages: int = 50  # PDF pages
    max_ocr_pages: int = 10  # pages or images that go through OCR
    max_chars: int = 1_000_000  # extracted text
    max_inflated_bytes: int = 100 * MB  # decompressed bytes of a zip package or of a PDF's streams
    max_ratio: float = 100.0  # decompressed/compressed, for anything that inflates past RATIO_FLOOR
    max_pixels: int = 40_000_000  # per image handed to OCR
    timeout_s: float = 120.0  # wall time of one file in a worker (OCR of a dense page: 10-30 s on 2 busy cores)
    memory_bytes: int = 3072 * MB  # address space of a worker (RLIMIT_AS); 0 leaves it unlimited
    ocr: bool = True


# Small parts legitimately compress very well (an empty numbering.xml is 30x); below this size the ratio is not
# a threat, so it is only checked above it.
RATIO_FLOOR = 1 * MB


class Unreadable(Exception):
    """The file cannot be read as the format its content says it is; `reason` is meant for the uploader."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OverLimit(Unreadable):
    """Reading the file would cross one of the ParseLimits; `limit` names it (e.g. "max_pages")."""

    def __init__(self, limit: str, reason: str) -> None:
        super().__init__(reason)
        self.limit = limit


def megabytes(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n} bytes"


class TextBudget:
    """Collects extracted text and stops the parser as soon as it passes `max_chars`."""

    def __init__(self, limits: ParseLimits) -> None:
        self._limit = limits.max_chars
        self._parts: list[str] = []
        self._size = 0

    def add(self, text: str) -> None:
        self._size += len(text)
        if self._size > self._limit:
            raise OverLimit("max_chars", f"more than {self._limit:,} characters of text (the text limit)")
        self._parts.append(text)

    def text(self, sep: str = "") -> str:
        return sep.join(self._parts)


def check_inflation(name: str, compressed: int, inflated: int, limits: ParseLimits) -> None:
    """Refuse a part that inflates past the size limit, or past the ratio limit once it is big enough to matter."""
    if inflated > limits.max_inflated_bytes:
        raise OverLimit(
            "max_inflated_bytes",
            f"{name} inflates to {megabytes(inflated)}; "
            f"the decompressed size limit is {megabytes(limits.max_inflated_bytes)}",
        )
    if inflated > RATIO_FLOOR and inflated > limits.max_ratio * max(compressed, 1):
        ratio = inflated / max(compressed, 1)
        raise OverLimit(
            "max_ratio",
            f"{name} inflates {ratio:,.0f}x ({megabytes(inflated)}); "
            f"the compression ratio limit is {limits.max_ratio:g}x",
        )


def open_zip(content: bytes, what: str, limits: ParseLimits) -> zipfile.ZipFile:
    """A zip package whose declared member sizes are within the limits (zipfile never reads past a declared
    size, so checking the directory bounds what any later read can inflate to)."""
    try:
        package = zipfile.ZipFile(io.BytesIO(content))
        members = package.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise Unreadable(f"corrupt or unreadable {what}: {exc}") from None
    total = 0
    for info in members:
        check_inflation(f"part {info.filename[:80]!r}", info.compress_size, info.file_size, limits)
        total += info.file_size
    check_inflation(f"the {what} package", len(content), total, limits)
    if any(info.flag_bits & 0x1 for info in members):
        raise Unreadable(f"{what} is password-protected; upload an unlocked copy")
    return package


def read_member(package: zipfile.ZipFile, name: str, what: str) -> bytes:
    try:
        return package.read(name)
    except KeyError:
        raise Unreadable(f"corrupt or unreadable {what}: it has no {name}") from None
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise Unreadable(f"corrupt or unreadable {what}: {exc}") from None
