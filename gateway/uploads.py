"""Resume uploads: multipart/form-data read part by part under one byte budget for the whole request.

Every byte of every part (files, text fields, parts we skip) counts against the request's budget, whether
the body came with a Content-Length or chunked; past it the answer is 413. A file over the per-file limit is
413 too, more text fields than `max_fields` are 400, and nested multipart is refused. `iter_form` yields the
files one at a time, so a bulk import can stream them on instead of holding all of them.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from gateway.errors import ApiError, bad_request
from gateway.protojson import loads_json

# Text fields a form may carry next to the file (Candidate's writable fields).
CANDIDATE_FORM_FIELDS = ("name", "email", "phone", "location", "headline", "years_experience", "skills")
_FORM_OVERHEAD = 64 * 1024
MAX_FIELD_BYTES = _FORM_OVERHEAD
DEFAULT_MAX_FIELDS = 32


@dataclass
class UploadedFile:
    file_name: str
    media_type: str
    content: bytes


@dataclass
class Form:
    files: list[UploadedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FormLimits:
    """Per file, per request (every part together), how many files and how many text fields."""

    per_file: int
    total: int
    max_files: int = 1
    max_fields: int = DEFAULT_MAX_FIELDS


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"upload too large: at most {limit // (1024 * 1024)} MB per file")


def request_too_large(limit: int) -> ApiError:
    return ApiError(413, f"request too large: at most {max(limit // (1024 * 1024), 1)} MB in all its parts")


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, size: int) -> None:
        self.used += size
        if self.used > self.limit:
            raise request_too_large(self.limit)


async def read_form(
    request: web.Request,
    per_file_limit: int,
    max_files: int = 1,
    *,
    total_limit: int | None = None,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> Form:
    """The whole form in memory: for single uploads (a resume and a few fields)."""
    limits = FormLimits(
        per_file_limit, total_limit or per_file_limit * max_files + _FORM_OVERHEAD, max_files, max_fields
    )
    form = Form()
    async for upload in iter_form(request, limits, form.fields):
        form.files.append(upload)
    return form


async def iter_form(request: web.Request, limits: FormLimits, fields: dict[str, str]) -> AsyncIterator[UploadedFile]:
    """Yield each file part as it is read; text fields land in `fields` as they arrive."""
    if not request.content_type.startswith("multipart/"):
        raise ApiError(415, f"expected multipart/form-data, got {request.content_type}")
    if request.content_length is not None and request.content_length > limits.total:
        raise request_too_large(limits.total)
    budget = _Budget(limits.total)
    files = 0
    try:
        reader = await request.multipart()
    except (HttpProcessingError, ValueError, AssertionError) as exc:
        raise bad_request("body", f"malformed multipart/form-data: {type(exc).__name__}") from None
    while True:
        try:
            part = await reader.next()
        except (HttpProcessingError, ValueError) as exc:  # a caller's malformed part headers, not our fault
            raise bad_request("body", f"malformed multipart/form-data: {type(exc).__name__}") from None
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise bad_request("body", "nested multipart parts are not accepted")
        if part.filename:
            if files >= limits.max_files:
                raise bad_request(part.name or "file", f"at most {limits.max_files} file(s) per request")
            files += 1
            content = await _read_limited(part, limits.per_file, budget, too_large(limits.per_file))
            media = part.headers.get("Content-Type", "")
            if media in ("", "application/octet-stream"):
                media = mimetypes.guess_type(part.filename)[0] or ""
            yield UploadedFile(part.filename, media, content)
        else:
            if len(fields) >= limits.max_fields:
                raise bad_request(part.name or "body", f"at most {limits.max_fields} form fields per request")
            value = await _read_limited(
                part, MAX_FIELD_BYTES, budget, bad_request(part.name or "body", "form field longer than 64 KB")
            )
            if not part.name:
                continue  # an unnamed part is nobody's field: counted against the budget, then dropped
            try:
                fields[part.name] = value.decode()
            except UnicodeDecodeError:
                raise bad_request(part.name, "form field is not UTF-8 text") from None


async def _read_limited(part: BodyPartReader, limit: int, budget: _Budget, over: ApiError) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(256 * 1024):
        size += len(chunk)
        budget.spend(len(chunk))
        if size > limit:
            raise over
        chunks.append(chunk)
    return b"".join(chunks)


def candidate_fields(form: Form) -> dict[str, object]:
    """Candidate JSON from the form: a `candidate` JSON field, then plain fields over it."""
    data: dict[str, object] = {}
    if "candidate" in form.fields:
        parsed = loads_json(form.fields["candidate"], "candidate", "the candidate field")
        if not isinstance(parsed, dict):
            raise bad_request("candidate", "must be a JSON object")
        data.update(parsed)
    for name in CANDIDATE_FORM_FIELDS:
        value = form.fields.get(name, "").strip()
        if not value:
            continue
        if name == "skills":
            data[name] = [s.strip() for s in value.split(",") if s.strip()]
        elif name == "years_experience":
            try:
                data[name] = float(value)
            except ValueError:
                raise bad_request(name, f"expected a number, got {value!r}") from None
        else:
            data[name] = value
    return data
