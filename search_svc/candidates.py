"""Candidates in PostgreSQL: create (from fields and/or a resume file), read, update, delete, list.

Every write of text embeds it first; when embedding_svc is down the row is written anyway with its old
(or no) vector, so `embedding_stale` is true until the catch-up loop re-embeds it.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from psycopg import sql
from psycopg.errors import UniqueViolation
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from hiremesh import page_tokens
from hiremesh.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from hiremesh.mailaddr import is_email
from hiremesh.skills import normalise_skills
from search_svc import ingest, paging, request_ids
from search_svc.embedder import Embedder
from search_svc.parse_pool import ParseJob, ResumeParser
from search_svc.profile import extract_profile
from search_svc.records import (
    CANDIDATE_DERIVED_FIELDS,
    CANDIDATE_FIELDS,
    CANDIDATE_TEXT_FIELDS,
    Candidate,
    Page,
    candidate_text,
    education_json,
)
from search_svc.rows import RowStore, Table, ilike_pattern

_KIND = "candidate"  # in catalog.request_ids
TABLE = Table(
    "candidates",
    "candidate",
    ("id", *CANDIDATE_FIELDS, *CANDIDATE_DERIVED_FIELDS, "resume_sha256", "embedded_at", "created_at", "updated_at"),
)
_INSERT_FIELDS = (*CANDIDATE_FIELDS, *CANDIDATE_DERIVED_FIELDS)
MAX_EDUCATION = 20
MAX_YEARS = 80.0
MAX_TEXT_CHARS = 2_000_000
_UPDATE_RETRIES = 5


@dataclass(frozen=True)
class ResumeUpload:
    file_name: str
    media_type: str
    content: bytes


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def prepare(
    given: Candidate,
    resume: ResumeUpload | None,
    field: str = "resume",
    extracted: ingest.ExtractedResume | None = None,
) -> Candidate:
    """A candidate ready to insert: resume text extracted, empty fields filled from it, values checked.

    Explicit fields win over extracted ones; the dedupe key is the file's sha256, or the text's when the
    resume came as text. `extracted` is the resume already parsed (by a parser worker); without it the file
    is parsed here, in this process.
    """
    c = replace(given, skills=list(given.skills))
    if resume is not None and resume.content:
        if extracted is None:
            extracted = ingest.extract(resume.content, resume.media_type, resume.file_name, field)
        c.resume_text = c.resume_text or extracted.text
        c.resume_media_type = extracted.media_type
        c.resume_file_name = c.resume_file_name or resume.file_name
        c.resume_sha256 = extracted.sha256
    elif c.resume_text.strip():
        c.resume_text = c.resume_text.strip()
        c.resume_media_type = c.resume_media_type or ingest.TEXT
        c.resume_sha256 = text_sha256(c.resume_text)
    c.resume_file_name = ingest.safe_file_name(c.resume_file_name)
    c.name = c.name.strip()
    c.name_source = "given" if c.name else "unnamed"
    if c.resume_text:
        found = extract_profile(c.resume_text, file_name=c.resume_file_name)
        if not c.name:
            c.name, c.name_source = found.name, found.name_source
        # An address the extractor found but we could not send to is dropped, not an error of the caller.
        c.email = c.email.strip() or (found.email if is_email(found.email) else "")
        c.phone = c.phone.strip() or found.phone
        c.location = c.location.strip() or found.location
        c.headline = c.headline.strip() or found.headline
        c.years_experience = c.years_experience or found.years_experience
        c.skills = normalise_skills(c.skills) if c.skills else found.skills
        c.education = c.education or found.education
    else:
        c.skills = normalise_skills(c.skills)
    validate(c, "candidate")
    if not (c.name or c.resume_text):
        raise InvalidArgument("candidate.name", "a candidate needs a name or a resume")
    return c


def validate(c: Candidate, prefix: str) -> None:
    if not math.isfinite(c.years_experience) or not 0 <= c.years_experience <= MAX_YEARS:
        raise InvalidArgument(f"{prefix}.years_experience", f"must be between 0 and {MAX_YEARS:g}")
    if c.email and not is_email(c.email):
        raise InvalidArgument(f"{prefix}.email", f"not an e-mail address: {c.email[:80]!r}")
    if len(c.resume_text) > MAX_TEXT_CHARS:
        raise InvalidArgument(f"{prefix}.resume_text", f"longer than {MAX_TEXT_CHARS} characters")
    for name in ("name", "email", "phone", "location", "headline", "resume_file_name"):
        if len(getattr(c, name)) > 1000:
            raise InvalidArgument(f"{prefix}.{name}", "longer than 1000 characters")
    if len(c.skills) > 500:
        raise InvalidArgument(f"{prefix}.skills", "more than 500 skills")
    if len(c.education) > MAX_EDUCATION:
        raise InvalidArgument(f"{prefix}.education", f"more than {MAX_EDUCATION} entries")
    for i, entry in enumerate(c.education):
        if len(entry.degree) > 1000 or len(entry.institution) > 1000:
            raise InvalidArgument(f"{prefix}.education[{i}]", "degree or institution longer than 1000 characters")
        if entry.year and not 1900 <= entry.year <= 2100:
            raise InvalidArgument(f"{prefix}.education[{i}].year", "must be 0 (unknown) or between 1900 and 2100")


def db_value(name: str, value: Any) -> Any:
    """A field's value as a query parameter (education goes to a jsonb column)."""
    return Jsonb(education_json(value)) if name == "education" else value


_INSERT = sql.SQL(
    "INSERT INTO catalog.candidates ({cols}, resume_sha256, embedding, embedded_at) "
    "VALUES ({vals}, %s, %s, CASE WHEN %s THEN now() END) "
    "ON CONFLICT (resume_sha256) WHERE resume_sha256 IS NOT NULL DO NOTHING RETURNING id"
).format(
    cols=sql.SQL(", ").join(sql.Identifier(c) for c in _INSERT_FIELDS),
    vals=sql.SQL(", ").join(sql.Placeholder() for _ in _INSERT_FIELDS),
)


class Candidates(RowStore):
    table = TABLE

    def __init__(self, pool: AsyncConnectionPool[Any], embedder: Embedder, parser: ResumeParser) -> None:
        super().__init__(pool, embedder)
        self.parser = parser

    async def parse(self, resume: ResumeUpload, field: str) -> ingest.ExtractedResume:
        """The resume's text, read by a parser worker under the configured limits."""
        return await self.parser.extract(ParseJob(resume.content, resume.media_type, resume.file_name, field))

    async def create(
        self, given: Candidate, resume: ResumeUpload | None, request_id: str = ""
    ) -> tuple[Candidate, bool]:
        """The new candidate, or the existing one with the same resume and True (deduplicated).

        With a `request_id` seen before, the answer the request with that id got (search_svc.request_ids)."""
        if request_id and (done := await request_ids.find(self.pool, _KIND, request_id)):
            return await self.get(done[0]), done[1]
        extracted = await self.parse(resume, "resume") if resume is not None and resume.content else None
        # Profile extraction reads the whole text with regular expressions: CPU work, off the event loop.
        c = await asyncio.to_thread(prepare, given, resume, "resume", extracted)
        if c.resume_sha256:
            existing = await self.by_sha256(c.resume_sha256)
            if existing is not None:
                if request_id:
                    async with self.pool.connection() as conn, conn.transaction():
                        if done := await request_ids.claim(conn, _KIND, request_id):
                            return Candidate.from_row(await self.fetch(conn, done[0])), done[1]
                        await request_ids.remember(conn, _KIND, request_id, existing.id, True)
                return existing, True
        vectors = await self.try_embed([candidate_text(c)])
        [(out, dedup)] = await self.insert_many([c], vectors, request_id=request_id)
        return out, dedup

    async def by_sha256(self, sha: str) -> Candidate | None:
        query = sql.SQL("{select} WHERE resume_sha256 = %s").format(select=TABLE.select)
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, (sha,))
            row = await cur.fetchone()
        return Candidate.from_row(row) if row else None

    async def existing_sha256(self, shas: list[str]) -> dict[str, str]:
        """sha256 -> id for the given hashes that are already in the catalog."""
        if not shas:
            return {}
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT resume_sha256, id FROM catalog.candidates WHERE resume_sha256 = ANY(%s)", (shas,)
            )
            return {sha: str(cid) for sha, cid in await cur.fetchall()}

    async def insert_many(
        self, prepared: list[Candidate], vectors: list[np.ndarray] | None, *, request_id: str = ""
    ) -> list[tuple[Candidate, bool]]:
        """Insert prepared candidates in one transaction; a sha256 already present returns that row.

        `request_id` (one candidate only) is stored with the outcome in the same transaction."""
        assert not request_id or len(prepared) == 1
        out: list[tuple[Candidate, bool]] = []
        async with self.pool.connection() as conn, conn.transaction():
            if request_id and (done := await request_ids.claim(conn, _KIND, request_id)):
                return [(Candidate.from_row(await self.fetch(conn, done[0])), done[1])]
            for i, c in enumerate(prepared):
                vector = vectors[i] if vectors is not None else None
                values = [db_value(f, getattr(c, f)) for f in _INSERT_FIELDS]
                cur = await conn.execute(_INSERT, [*values, c.resume_sha256, vector, vector is not None])
                inserted = await cur.fetchone()
                if inserted is not None:
                    out.append((Candidate.from_row(await self.fetch(conn, str(inserted[0]))), False))
                    continue
                async with conn.cursor(row_factory=dict_row) as dup:
                    await dup.execute(
                        sql.SQL("{select} WHERE resume_sha256 = %s").format(select=TABLE.select), (c.resume_sha256,)
                    )
                    row = await dup.fetchone()
                assert row is not None  # the conflict was on this key, inside this transaction's snapshot
                out.append((Candidate.from_row(row), True))
            if request_id:
                await request_ids.remember(conn, _KIND, request_id, out[0][0].id, out[0][1])
        return out

    async def get(self, candidate_id: str) -> Candidate:
        return Candidate.from_row(await self.get_row(candidate_id))

    async def update(self, candidate_id: str, changes: dict[str, Any]) -> Candidate:
        """Apply `changes` (writable field -> value); re-embeds when a field the vector reads changed."""
        candidate_id = paging.parse_id(candidate_id, "candidate.id")
        unknown = set(changes) - set(CANDIDATE_FIELDS)  # name_source follows name; it is never set directly
        if unknown:
            raise InvalidArgument("update_mask", f"not updatable: {', '.join(sorted(unknown))}")
        if "skills" in changes:
            changes["skills"] = normalise_skills(list(changes["skills"]))
        if "resume_file_name" in changes:
            changes["resume_file_name"] = ingest.safe_file_name(str(changes["resume_file_name"]))
        if "name" in changes:
            changes["name_source"] = "given" if changes["name"] else "unnamed"
        for _attempt in range(_UPDATE_RETRIES):
            current = await self.get(candidate_id)
            merged = replace(current, **changes)
            validate(merged, "candidate")
            text_changed = any(f in CANDIDATE_TEXT_FIELDS for f in changes) and candidate_text(
                merged
            ) != candidate_text(current)
            if "resume_text" in changes and merged.resume_text != current.resume_text:
                changes["resume_sha256"] = text_sha256(merged.resume_text) if merged.resume_text else None
            vector: np.ndarray | None = None
            if text_changed:
                vectors = await self.try_embed([candidate_text(merged)])
                vector = vectors[0] if vectors else None
            row = await self._write(candidate_id, current, changes, text_changed, vector)
            if row is not None:
                return row
        raise FailedPrecondition(f"candidate {candidate_id} was updated concurrently {_UPDATE_RETRIES} times; retry")

    async def _write(
        self,
        candidate_id: str,
        current: Candidate,
        changes: dict[str, Any],
        text_changed: bool,
        vector: np.ndarray | None,
    ) -> Candidate | None:
        params = {name: db_value(name, value) for name, value in changes.items()}
        try:
            row = await self.write_if_unchanged(candidate_id, current.updated_at, params, text_changed, vector)
        except UniqueViolation:
            raise AlreadyExists("candidate.resume_text: another candidate has the same resume text") from None
        return Candidate.from_row(row) if row is not None else None

    async def list(
        self, size: int, token: str, location: str = "", skill: str = "", min_years: float = 0.0
    ) -> Page[Candidate]:
        size = paging.page_size(size)
        where: list[sql.Composable] = []
        params: list[Any] = []
        if location.strip():
            where.append(sql.SQL("location ILIKE %s"))
            params.append(ilike_pattern(location))
        if skill.strip():
            where.append(sql.SQL("skills @> %s::text[]"))
            params.append(normalise_skills([skill]))
        if min_years:
            if not math.isfinite(min_years) or min_years < 0:
                raise InvalidArgument("min_years_experience", "must be a non-negative number")
            where.append(sql.SQL("years_experience >= %s"))
            params.append(min_years)
        key = page_tokens.filter_key("candidates", location.strip().lower(), normalise_skills([skill]), min_years)
        rows, next_token, total = await self.list_rows(where, params, size, token, key)
        return Page([Candidate.from_row(r) for r in rows], next_token, total)
