"""Resume uploads: multipart/form-data parts read with a hard size limit (413 past it)."""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from gateway.errors import ApiError, bad_request

# Text fields a form may carry next to the file (Candidate's writable fields).
CANDIDATE_FORM_FIELDS = ("name", "email", "phone", "location", "headline", "years_experience", "skills")
_FORM_OVERHEAD = 64 * 1024


@dataclass
class UploadedFile:
    file_name: str
    media_type: str
    content: bytes


@dataclass
class Form:
    files: list[UploadedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"upload too large: at most {limit // (1024 * 1024)} MB per file")


async def read_form(request: web.Request, per_file_limit: int, max_files: int = 1) -> Form:
    if not request.content_type.startswith("multipart/"):
        raise ApiError(415, f"expected multipart/form-data, got {request.content_type}")
    total_limit = per_file_limit * max_files + _FORM_OVERHEAD
    if request.content_length is not None and request.content_length > total_limit:
        raise too_large(per_file_limit)
    form = Form()
    reader = await request.multipart()
    while True:
        try:
            part = await reader.next()
        except (HttpProcessingError, ValueError) as exc:  # a caller's malformed part headers, not our fault
            raise bad_request("body", f"malformed multipart/form-data: {type(exc).__name__}") from None
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue  # nested multipart: not something a browser form sends
        if part.filename:
            if len(form.files) >= max_files:
                raise bad_request(part.name or "file", f"at most {max_files} file(s) per request")
            content = await _read_limited(part, per_file_limit)
            media = part.headers.get("Content-Type", "")
            if media in ("", "application/octet-stream"):
                media = mimetypes.guess_type(part.filename)[0] or ""
            form.files.append(UploadedFile(part.filename, media, content))
        elif part.name:
            value = await _read_limited(part, _FORM_OVERHEAD)
            try:
                form.fields[part.name] = value.decode()
            except UnicodeDecodeError:
                raise bad_request(part.name, "form field is not UTF-8 text") from None
    return form


async def _read_limited(part: BodyPartReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(256 * 1024):
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def candidate_fields(form: Form) -> dict[str, object]:
    """Candidate JSON from the form: a `candidate` JSON field, then plain fields over it."""
    data: dict[str, object] = {}
    if "candidate" in form.fields:
        try:
            parsed = json.loads(form.fields["candidate"])
        except json.JSONDecodeError as exc:
            raise bad_request("candidate", f"not valid JSON: {exc.msg}") from None
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
