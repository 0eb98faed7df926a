"""Jobs in PostgreSQL: create, read, update (field mask), delete, list; embedded like candidates."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from psycopg import sql

from hiremesh import page_tokens
from hiremesh.errors import FailedPrecondition, InvalidArgument
from hiremesh.skills import normalise_skills
from search_svc import paging, request_ids
from search_svc.records import JOB_FIELDS, JOB_STATUSES, JOB_TEXT_FIELDS, Job, Page, job_text
from search_svc.rows import RowStore, Table, ilike_pattern

TABLE = Table("jobs", "job", ("id", *JOB_FIELDS, "embedded_at", "created_at", "updated_at"))
MAX_YEARS = 80.0
_UPDATE_RETRIES = 5

_INSERT = sql.SQL(
    "INSERT INTO catalog.jobs ({cols}, embedding, embedded_at) VALUES ({vals}, %s, CASE WHEN %s THEN now() END) "
    "RETURNING id"
).format(
    cols=sql.SQL(", ").join(sql.Identifier(c) for c in JOB_FIELDS),
    vals=sql.SQL(", ").join(sql.Placeholder() for _ in JOB_FIELDS),
)


def validate(j: Job, prefix: str = "job") -> None:
    if not j.title.strip():
        raise InvalidArgument(f"{prefix}.title", "required")
    if j.status not in JOB_STATUSES:
        raise InvalidArgument(f"{prefix}.status", f"must be one of {', '.join(JOB_STATUSES)}")
    for name in ("min_experience", "max_experience"):
        value = getattr(j, name)
        if not math.isfinite(value) or not 0 <= value <= MAX_YEARS:
            raise InvalidArgument(f"{prefix}.{name}", f"must be between 0 and {MAX_YEARS:g}")
    if j.max_experience and j.max_experience < j.min_experience:
        raise InvalidArgument(f"{prefix}.max_experience", "is below min_experience")
    if len(j.title) > 500:
        raise InvalidArgument(f"{prefix}.title", "longer than 500 characters")
    if len(j.description) > 200_000:
        raise InvalidArgument(f"{prefix}.description", "longer than 200000 characters")
    if len(j.required_skills) > 200:
        raise InvalidArgument(f"{prefix}.required_skills", "more than 200 skills")


class Jobs(RowStore):
    table = TABLE

    async def create(self, given: Job, request_id: str = "") -> Job:
        """A new job; with a `request_id` seen before, the job that request created (search_svc.request_ids)."""
        j = replace(
            given,
            title=given.title.strip(),
            required_skills=normalise_skills(given.required_skills),
            status=given.status or "open",
        )
        validate(j)
        if request_id and (done := await request_ids.find(self.pool, "job", request_id)):
            return await self.get(done[0])
        vectors = await self.try_embed([job_text(j)])
        vector = vectors[0] if vectors else None
        async with self.pool.connection() as conn, conn.transaction():
            if request_id and (done := await request_ids.claim(conn, "job", request_id)):
                return Job.from_row(await self.fetch(conn, done[0]))
            cur = await conn.execute(_INSERT, [*(getattr(j, f) for f in JOB_FIELDS), vector, vector is not None])
            row = await cur.fetchone()
            assert row is not None
            if request_id:
                await request_ids.remember(conn, "job", request_id, str(row[0]))
            return Job.from_row(await self.fetch(conn, str(row[0])))

    async def get(self, job_id: str) -> Job:
        return Job.from_row(await self.get_row(job_id))

    async def update(self, job_id: str, changes: dict[str, Any]) -> Job:
        job_id = paging.parse_id(job_id, "job.id")
        unknown = set(changes) - set(JOB_FIELDS)
        if unknown:
            raise InvalidArgument("update_mask", f"not updatable: {', '.join(sorted(unknown))}")
        if "required_skills" in changes:
            changes["required_skills"] = normalise_skills(list(changes["required_skills"]))
        for _attempt in range(_UPDATE_RETRIES):
            current = await self.get(job_id)
            merged = replace(current, **changes)
            validate(merged)
            text_changed = any(f in JOB_TEXT_FIELDS for f in changes) and job_text(merged) != job_text(current)
            vector: np.ndarray | None = None
            if text_changed:
                vectors = await self.try_embed([job_text(merged)])
                vector = vectors[0] if vectors else None
            row = await self._write(job_id, current, changes, text_changed, vector)
            if row is not None:
                return row
        raise FailedPrecondition(f"job {job_id} was updated concurrently {_UPDATE_RETRIES} times; retry")

    async def _write(
        self, job_id: str, current: Job, changes: dict[str, Any], text_changed: bool, vector: np.ndarray | None
    ) -> Job | None:
        row = await self.write_if_unchanged(job_id, current.updated_at, changes, text_changed, vector)
        return Job.from_row(row) if row is not None else None

    async def list(self, size: int, token: str, status: str = "", location: str = "", skill: str = "") -> Page[Job]:
        size = paging.page_size(size)
        where: list[sql.Composable] = []
        params: list[Any] = []
        if status:
            where.append(sql.SQL("status = %s"))
            params.append(status)
        if location.strip():
            where.append(sql.SQL("location ILIKE %s"))
            params.append(ilike_pattern(location))
        if skill.strip():
            where.append(sql.SQL("required_skills @> %s::text[]"))
            params.append(normalise_skills([skill]))
        key = page_tokens.filter_key("jobs", status, location.strip().lower(), normalise_skills([skill]))
        rows, next_token, total = await self.list_rows(where, params, size, token, key)
        return Page([Job.from_row(r) for r in rows], next_token, total)
